using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using RayOrleans.Benchmarks.Cluster;
using RayOrleans.Hosting;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>A cluster closed with mutual TLS: silo processes started with a cluster certificate, drivers with and without it.</summary>
public sealed class ClusterTlsTests
{
    [Fact]
    public async Task Only_a_driver_holding_the_cluster_certificate_connects()
    {
        var folder = Directory.CreateTempSubdirectory("ray-tls-").FullName;
        try
        {
            var path = Path.Combine(folder, "cluster.pfx");
            using var certificate = SelfSigned("rayorleans-test-cluster");
            await File.WriteAllBytesAsync(path, certificate.Export(X509ContentType.Pkcs12));
            var cluster = ClusterTls.Load(path, null);

            await using var processes = await ProcessCluster.StartAsync(silos: 2, cpusPerSilo: 1, tlsCertificate: path);
            await using (var ray = await Ray.InitAsync(processes.Address, new RayInitOptions { ClusterId = processes.ClusterId, ClusterCertificate = cluster }))
            {
                // Both silos joined each other over TLS, and work crosses between them.
                await Wait.UntilAsync(async () => (await ray.NodesAsync()).Count == 2, "both silos report over TLS");
                var spread = new TaskOptions { SchedulingStrategy = SchedulingStrategy.Spread };
                var nodes = await ray.GetAsync(Enumerable.Range(0, 6).Select(i => ray.Task(TestTasks.WhereAmISlowly, i).Options(spread).Remote()), Wait.Deadline);
                Assert.Equal(2, nodes.Distinct().Count());
            }

            var quick = TimeSpan.FromSeconds(5);
            var plain = await Assert.ThrowsAsync<TimeoutException>(() =>
                Ray.InitAsync(processes.Address, new RayInitOptions { ClusterId = processes.ClusterId, ConnectTimeout = quick }));
            Assert.Contains("ClusterCertificate", plain.Message);

            using var stranger = SelfSigned("rayorleans-test-cluster"); // same name, another key: refused
            await Assert.ThrowsAsync<TimeoutException>(() =>
                Ray.InitAsync(processes.Address, new RayInitOptions { ClusterId = processes.ClusterId, ConnectTimeout = quick, ClusterCertificate = stranger }));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_certificate_file_that_is_missing_or_has_no_key_is_named()
    {
        Assert.Contains("does not exist", Assert.Throws<FileNotFoundException>(() => ClusterTls.Load("/nonexistent/cluster.pfx", null)).Message);
        var folder = Directory.CreateTempSubdirectory("ray-tls-").FullName;
        try
        {
            using var certificate = SelfSigned("no-key");
            var path = Path.Combine(folder, "public.pfx");
            File.WriteAllBytes(path, X509CertificateLoader.LoadCertificate(certificate.Export(X509ContentType.Cert)).Export(X509ContentType.Pkcs12));
            Assert.Contains("no private key", Assert.Throws<ArgumentException>(() => ClusterTls.Load(path, null)).Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static X509Certificate2 SelfSigned(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        // Through PKCS#12 so the key is usable for TLS on Linux.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null, X509KeyStorageFlags.EphemeralKeySet);
    }
}
