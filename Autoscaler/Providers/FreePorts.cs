using System.Net;
using System.Net.Sockets;

namespace RayOrleans.Autoscaler.Providers;

/// <summary>Distinct free loopback ports for a silo process (`rayo start` and the LocalProcess provider both start them).</summary>
internal static class FreePorts
{
    /// <summary>Takes <paramref name="count"/> distinct free ports: each listener is held until all are taken.</summary>
    public static int[] Take(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            listeners.ForEach(l => l.Start());
            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            listeners.ForEach(l => l.Stop());
        }
    }
}
