using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RayOrleans.Tests.Fixtures;

/// <summary>
/// A stand-in for the Kubernetes API server, on 127.0.0.1 (HttpListener): it serves only the paths the autoscaler's
/// Kubernetes provider calls (a Deployment's <c>/scale</c>, listing and patching pods), keeps the replicas and pods it
/// is told about, and records every request. Not Kubernetes: no controller makes pods from replicas (the test adds
/// them), no admission, no RBAC. It is the only check of the provider possible here, where there is no cluster.
/// </summary>
public sealed class FakeKubernetesApi : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _serving;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _replicas = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _selectors = new(StringComparer.Ordinal);
    private readonly List<(string Name, string Pool, string Phase)> _pods = [];

    public FakeKubernetesApi(string @namespace)
    {
        Namespace = @namespace;
        // A free port: HttpListener cannot take port 0, so take one the OS just handed out.
        var port = RayOrleans.Hosting.FreePort.Next();
        Address = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Address + "/");
        _listener.Start();
        _serving = ServeAsync();
    }

    public string Namespace { get; }

    public string Address { get; }

    /// <summary>Every request, in order: method, path, query, content type and body.</summary>
    public List<Request> Requests { get; } = [];

    public sealed record Request(string Method, string Path, string Query, string? ContentType, string Body);

    /// <summary>Adds a Deployment with <paramref name="replicas"/>; its pods carry <c>rayorleans.io/pool={pool}</c>.</summary>
    public void AddPool(string deployment, string pool, int replicas)
    {
        lock (_gate)
        {
            _replicas[deployment] = replicas;
            _selectors[deployment] = $"app.kubernetes.io/component=worker,rayorleans.io/pool={pool}";
        }
    }

    public int Replicas(string deployment)
    {
        lock (_gate)
        {
            return _replicas[deployment];
        }
    }

    /// <summary>A pod of the pool exists (what the ReplicaSet controller would do).</summary>
    public void AddPod(string name, string pool, string phase = "Running")
    {
        lock (_gate)
        {
            _pods.Add((name, pool, phase));
        }
    }

    public List<Request> Snapshot()
    {
        lock (_gate)
        {
            return [.. Requests];
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var (status, answer) = Answer(context.Request, body);
            var bytes = Encoding.UTF8.GetBytes(answer);
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }

    private (int Status, string Body) Answer(HttpListenerRequest request, string body)
    {
        var path = request.Url!.AbsolutePath;
        lock (_gate)
        {
            Requests.Add(new Request(request.HttpMethod, path, request.Url.Query, request.ContentType, body));
            var scalePrefix = $"/apis/apps/v1/namespaces/{Namespace}/deployments/";
            if (path.StartsWith(scalePrefix, StringComparison.Ordinal) && path.EndsWith("/scale", StringComparison.Ordinal))
            {
                var deployment = path[scalePrefix.Length..^"/scale".Length];
                if (!_replicas.ContainsKey(deployment))
                {
                    return (404, Status(404, $"deployments.apps \"{deployment}\" not found"));
                }

                if (request.HttpMethod == "PATCH")
                {
                    _replicas[deployment] = JsonNode.Parse(body)!["spec"]!["replicas"]!.GetValue<int>();
                }

                return (200, JsonSerializer.Serialize(new
                {
                    apiVersion = "autoscaling/v1", kind = "Scale",
                    metadata = new { name = deployment, @namespace = Namespace },
                    spec = new { replicas = _replicas[deployment] },
                    status = new { replicas = _replicas[deployment], selector = _selectors[deployment] },
                }));
            }

            var podsPath = $"/api/v1/namespaces/{Namespace}/pods";
            if (path == podsPath && request.HttpMethod == "GET")
            {
                var selector = request.QueryString["labelSelector"] ?? "";
                var items = _pods.Where(p => selector.EndsWith($"rayorleans.io/pool={p.Pool}", StringComparison.Ordinal)).Select(Pod).ToArray();
                return (200, JsonSerializer.Serialize(new { apiVersion = "v1", kind = "PodList", metadata = new { }, items }));
            }

            if (path.StartsWith(podsPath + "/", StringComparison.Ordinal) && request.HttpMethod == "PATCH")
            {
                var name = path[(podsPath.Length + 1)..];
                var pod = _pods.FirstOrDefault(p => p.Name == name);
                return pod.Name is null ? (404, Status(404, $"pods \"{name}\" not found")) : (200, JsonSerializer.Serialize(Pod(pod)));
            }

            return (404, Status(404, $"the fake API does not serve {request.HttpMethod} {path}"));
        }
    }

    private object Pod((string Name, string Pool, string Phase) pod) => new
    {
        apiVersion = "v1", kind = "Pod",
        metadata = new { name = pod.Name, @namespace = Namespace, labels = new Dictionary<string, string> { ["rayorleans.io/pool"] = pod.Pool } },
        status = new { phase = pod.Phase },
    };

    private static string Status(int code, string message) =>
        JsonSerializer.Serialize(new { apiVersion = "v1", kind = "Status", status = "Failure", message, code });

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _serving;
    }
}
