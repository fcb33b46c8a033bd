using System.Net;
using System.Net.Sockets;

namespace RayOrleans.Hosting;

/// <summary>Finds a free loopback TCP port for an embedded silo.</summary>
internal static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
