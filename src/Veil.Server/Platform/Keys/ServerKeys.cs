namespace Veil.Server.Platform.Keys;

/// <summary>The server keys Veil needs (DESIGN.md, Security core) and where each is configured.</summary>
internal static class ServerKeys
{
    public static readonly IReadOnlyList<string> Names =
        ["field", "index", "session", "refresh", "recovery", "reply", "srs", "escrow", "report", "chat", "transparency"];

    public static string CurrentPath(string name) => $"Veil:Keys:{name}";

    public static string RetiredPath(string name, string version) => $"Veil:RetiredKeys:{name}:{version}";

    /// <summary>The same setting as an environment variable ("__" stands for ":").</summary>
    public static string EnvironmentName(string configurationPath) => configurationPath.Replace(":", "__", StringComparison.Ordinal);

    /// <summary>How a problem names a setting: its path and its environment variable, never its value.</summary>
    public static string Describe(string configurationPath) => $"{configurationPath} (env {EnvironmentName(configurationPath)})";
}
