using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace RayOrleans.Cli.Api;

/// <summary>
/// Talks to a node's HTTP API (the state API every silo serves, the job API of the head). Every failure
/// becomes a <see cref="CliException"/> with one line naming the address and what went wrong: nobody
/// listening, an endpoint this node does not serve (404), a request the node refused (400, bad input).
/// </summary>
internal sealed class ClusterApiClient : IDisposable
{
    private readonly HttpClient _http;

    public ClusterApiClient(Uri address)
    {
        Address = address;
        // Log follows long-poll up to 30 s on the server; the client waits a little longer than that.
        _http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(45) };
    }

    public Uri Address { get; }

    /// <summary>GET a JSON document.</summary>
    public async Task<JsonElement> GetJsonAsync(string pathAndQuery, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, pathAndQuery), cancellationToken);
        await EnsureSuccessAsync(response, pathAndQuery, cancellationToken);
        return await ReadJsonAsync(response, pathAndQuery, cancellationToken);
    }

    /// <summary>POST a JSON body and read the JSON answer.</summary>
    public async Task<JsonElement> PostJsonAsync(string path, object body, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(JsonSerializer.Serialize(body, JsonSerializerOptions.Web), Encoding.UTF8, "application/json"),
        };
        using var response = await SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, path, cancellationToken);
        return await ReadJsonAsync(response, path, cancellationToken);
    }

    /// <summary>HEAD: true on 200, false on 404.</summary>
    public async Task<bool> ExistsAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Head, path), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        await EnsureSuccessAsync(response, path, cancellationToken);
        return true;
    }

    /// <summary>PUT raw bytes.</summary>
    public async Task PutBytesAsync(string path, byte[] body, string contentType, CancellationToken cancellationToken)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Put, path) { Content = content }, cancellationToken);
        await EnsureSuccessAsync(response, path, cancellationToken);
    }

    /// <summary>GET raw bytes with the response headers (job logs).</summary>
    public async Task<(byte[] Body, HttpResponseHeaders Headers)> GetBytesAsync(string pathAndQuery, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, pathAndQuery), cancellationToken);
        await EnsureSuccessAsync(response, pathAndQuery, cancellationToken);
        return (await response.Content.ReadAsByteArrayAsync(cancellationToken), response.Headers);
    }

    public void Dispose() => _http.Dispose();

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        {
            try
            {
                return await _http.SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException e)
            {
                throw CliException.Failure($"cannot reach {Address}: {e.Message} Is the cluster running (rayo start --head), or is --address wrong?", e);
            }
            catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw CliException.Failure($"{Address} did not answer {request.Method} {request.RequestUri} within {_http.Timeout.TotalSeconds:0} s.", e);
            }
        }
    }

    private async Task EnsureSuccessAsync(HttpResponseMessage response, string path, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var body = response.Content is null ? "" : (await response.Content.ReadAsStringAsync(cancellationToken)).Trim();
        body = body.Trim('"').ReplaceLineEndings(" ");
        if (body.Length > 300)
        {
            body = body[..300] + "...";
        }

        var where = $"{Address.ToString().TrimEnd('/')}{path.Split('?')[0]}";
        throw response.StatusCode switch
        {
            HttpStatusCode.NotFound => CliException.Failure(body.Length > 0
                ? $"{where}: not found ({body})."
                : $"{where}: not found (404); this node does not serve it, or it does not exist."),
            HttpStatusCode.BadRequest => CliException.BadInput($"{where}: the node refused the request: {(body.Length > 0 ? body : "400 Bad Request")}"),
            _ => CliException.Failure($"{where}: {(int)response.StatusCode} {response.ReasonPhrase}{(body.Length > 0 ? ": " + body : "")}"),
        };
    }

    private async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, string path, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw CliException.Failure($"{Address.ToString().TrimEnd('/')}{path} did not answer JSON ({e.Message}).", e);
        }
    }
}
