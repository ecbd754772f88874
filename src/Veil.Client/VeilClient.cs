namespace Veil.Client;

/// <summary>The C# SDK entry point: an HTTP client for a Veil server plus the client-side crypto flows.</summary>
public sealed class VeilClient(HttpClient http)
{
    /// <summary>The underlying HTTP client, whose base address is the server's origin.</summary>
    public HttpClient Http { get; } = http;
}
