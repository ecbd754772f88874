using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests;

public sealed class ProblemDetailsTests : IAsyncLifetime
{
    private VeilTestServer _server = null!;

    public async Task InitializeAsync() => _server = await VeilTestServer.StartAsync(o =>
    {
        o.MapEndpoints = TestEndpoints.Map;
        o.Settings["Veil:Limits:MaxRequestBodyBytes"] = "2048";
    });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task UnknownRoute_Is404Problem()
    {
        using var response = await _server.Client.GetAsync(new Uri("/no/such/thing", UriKind.Relative));
        await AssertProblemAsync(response, HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task WrongMethod_Is405Problem()
    {
        using var response = await _server.Client.DeleteAsync(new Uri("/health", UriKind.Relative));
        await AssertProblemAsync(response, HttpStatusCode.MethodNotAllowed, "method-not-allowed");
    }

    [Fact]
    public async Task MalformedJson_Is400MalformedJsonProblem()
    {
        using var response = await PostAsync("/test/echo", "{\"text\": ", "application/json");
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "malformed-json");
    }

    [Fact]
    public async Task WrongContentType_Is415Problem()
    {
        using var response = await PostAsync("/test/echo", "text=hello", "application/x-www-form-urlencoded");
        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
    }

    [Fact]
    public async Task BodyOverTheLimit_Is413Problem()
    {
        var big = "{\"text\":\"" + new string('a', 4096) + "\"}";
        using var response = await PostAsync("/test/echo", big, "application/json");
        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "body-too-large");
    }

    [Fact]
    public async Task BodyWithinTheLimit_IsAccepted()
    {
        using var response = await PostAsync("/test/echo", "{\"text\":\"hi\"}", "application/json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task UnhandledException_Is500ProblemWithoutDetailOrStackTrace()
    {
        using var response = await _server.Client.GetAsync(new Uri("/test/throw/s3cret-value", UriKind.Relative));

        var body = await AssertProblemAsync(response, HttpStatusCode.InternalServerError, "internal-error");
        Assert.False(body.TryGetProperty("detail", out _));
        Assert.DoesNotContain("s3cret-value", body.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperationException", body.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TypedError_MapsToItsStatusTypeAndCode()
    {
        using var response = await _server.Client.GetAsync(new Uri("/test/gone", UriKind.Relative));
        await AssertProblemAsync(response, HttpStatusCode.Gone, "gone");
    }

    private async Task<HttpResponseMessage> PostAsync(string path, string body, string contentType)
    {
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return await _server.Client.PostAsync(new Uri(path, UriKind.Relative), content);
    }

    internal static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement.Clone();
        Assert.Equal("urn:veil:problem:" + code, root.GetProperty("type").GetString());
        Assert.Equal(code, root.GetProperty("code").GetString());
        Assert.Equal((int)status, root.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("title").GetString()));
        return root;
    }
}
