using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace RayOrleans.Hosting;

/// <summary>
/// Closes a cluster to outsiders: every silo-to-silo and client-to-gateway connection runs mutual TLS
/// (Microsoft.Orleans.Connections.Security) with one cluster certificate, and each side accepts only a peer
/// that presents that same certificate (pinned by thumbprint). The certificate, with its private key, is the
/// cluster's token: a process without it cannot join or connect, and a silo with another one is refused. A
/// self-signed certificate is enough, since trust comes from the pin, not from a chain; keep its file secret.
/// </summary>
public static class ClusterTls
{
    /// <summary>Mutual TLS, pinned to <paramref name="clusterCertificate"/>, for a silo's connections (inbound and outbound).</summary>
    public static ISiloBuilder UseClusterTls(this ISiloBuilder builder, X509Certificate2 clusterCertificate)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseTls(options => Configure(options, clusterCertificate));
    }

    /// <summary>Mutual TLS, pinned to <paramref name="clusterCertificate"/>, for a client's (a driver's) gateway connections.</summary>
    public static IClientBuilder UseClusterTls(this IClientBuilder builder, X509Certificate2 clusterCertificate)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseTls(options => Configure(options, clusterCertificate));
    }

    /// <summary>
    /// Loads the cluster certificate from a PKCS#12 (.pfx) file with its private key; throws naming the file
    /// and what is wrong (missing, unreadable, wrong password, no private key).
    /// </summary>
    public static X509Certificate2 Load(string path, string? password)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The cluster certificate '{path}' does not exist.", path);
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password, X509KeyStorageFlags.EphemeralKeySet);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new ArgumentException($"The cluster certificate '{path}' cannot be read (a PKCS#12 file and its password are expected): {e.Message}", nameof(path), e);
        }

        return certificate.HasPrivateKey
            ? certificate
            : throw new ArgumentException($"The cluster certificate '{path}' has no private key; mutual TLS needs it.", nameof(path));
    }

    private static void Configure(TlsOptions options, X509Certificate2 cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        if (!cluster.HasPrivateKey)
        {
            throw new ArgumentException("The cluster certificate has no private key; mutual TLS needs it.", nameof(cluster));
        }

        var pin = cluster.Thumbprint;
        var host = cluster.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        options.LocalCertificate = cluster;
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        // Trust is the pin: the peer must hold the very certificate this side holds (its chain and name are
        // not what makes it a member; a self-signed cluster certificate has no chain).
        options.RemoteCertificateValidation = (certificate, _, _) => certificate is not null && string.Equals(certificate.Thumbprint, pin, StringComparison.OrdinalIgnoreCase);
        options.OnAuthenticateAsClient = (_, ssl) => ssl.TargetHost = host;
    }
}
