using System.Net;
using System.Net.Sockets;

namespace RayOrleans.Hosting;

/// <summary>Finds a free loopback TCP port for an embedded silo (or a test's silo process).</summary>
internal static class FreePort
{
    /// <summary>Ports handed out by this process, most recent last: the kernel may offer a released port again at once.</summary>
    private static readonly Queue<int> Recent = new();
    private static readonly HashSet<int> RecentSet = [];
    private const int Remembered = 4096;

    /// <summary>
    /// A port that was free a moment ago and that this process has not handed out among its last 4,096: a silo started
    /// with several ports taken one after another (silo, gateway, HTTP) never gets the same one twice.
    /// </summary>
    public static int Next()
    {
        lock (Recent)
        {
            while (true)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                if (!RecentSet.Add(port))
                {
                    continue;
                }

                Recent.Enqueue(port);
                if (Recent.Count > Remembered)
                {
                    RecentSet.Remove(Recent.Dequeue());
                }

                return port;
            }
        }
    }
}
