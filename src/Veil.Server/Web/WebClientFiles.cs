using System.Collections.Frozen;
using System.Reflection;

namespace Veil.Server.Web;

/// <summary>
/// The built browser client (web/, built by Vite during the normal build, see Veil.Server.csproj), embedded in
/// this assembly under the resource prefix <c>VeilWeb/</c>. Embedding means `veil serve`, the test kit and a
/// published server all carry exactly the client they were built with, with no directory to find at run time.
/// </summary>
internal sealed class WebClientFiles
{
    public const string ResourcePrefix = "VeilWeb/";

    private readonly FrozenDictionary<string, WebClientFile> _files;

    private WebClientFiles(FrozenDictionary<string, WebClientFile> files) => _files = files;

    /// <summary>False when the server was built without the web client (VeilSkipWeb=true).</summary>
    public bool IsBuilt => _files.ContainsKey("app.html") && _files.ContainsKey("drop.html") && _files.ContainsKey("download.html");

    private static readonly Lazy<WebClientFiles> Embedded = new(LoadEmbedded);

    /// <summary>The files embedded in this assembly; read once per process (they cannot change while it runs).</summary>
    public static WebClientFiles Load() => Embedded.Value;

    /// <summary>
    /// The app's built stylesheet (<c>/web/assets/app-….css</c>, named by its hash), read from app.html; null when the
    /// client was not built. Server-rendered pages (the Vault check-in) link it so that they look like the app while
    /// keeping a CSP without inline style.
    /// </summary>
    public string? AppStylesheet { get; private init; }

    private static WebClientFiles LoadEmbedded()
    {
        var assembly = typeof(WebClientFiles).Assembly;
        var files = new Dictionary<string, WebClientFile>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            {
                continue;
            }

            var path = name[ResourcePrefix.Length..].Replace('\\', '/');
            files[path] = new WebClientFile(Read(assembly, name), ContentTypeOf(path));
        }

        string? stylesheet = null;
        if (files.TryGetValue("app.html", out var app))
        {
            var match = System.Text.RegularExpressions.Regex.Match(System.Text.Encoding.UTF8.GetString(app.Content),
                "<link rel=\"stylesheet\"[^>]*href=\"(/web/assets/[A-Za-z0-9._-]+\\.css)\"");
            stylesheet = match.Success ? match.Groups[1].Value : null;
        }

        return new WebClientFiles(files.ToFrozenDictionary(StringComparer.Ordinal)) { AppStylesheet = stylesheet };
    }

    /// <summary>A file by its path under the build output (<c>drop.html</c>, <c>assets/drop-1a2b.js</c>).</summary>
    public WebClientFile? Find(string path) => _files.GetValueOrDefault(path);

    private static byte[] Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static string ContentTypeOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" or ".mjs" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".wasm" => "application/wasm",
        ".json" or ".webmanifest" => "application/json",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        ".ico" => "image/x-icon",
        ".woff2" => "font/woff2",
        ".txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };
}

internal sealed record WebClientFile(byte[] Content, string ContentType);
