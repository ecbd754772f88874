using System.Text.Json;

namespace Veil.Cli;

/// <summary>Writes a verb's results: text for people, or one JSON object per line with <c>--json</c>.</summary>
internal sealed class CliOutput(bool json, TextWriter output, TextWriter error)
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    /// <summary>Reports an event: <paramref name="text"/> in human mode, <paramref name="data"/> as JSON otherwise.</summary>
    public void Event<T>(string text, T data)
    {
        output.WriteLine(json ? JsonSerializer.Serialize(data, JsonOptions) : text);
        output.Flush();
    }

    /// <summary>A failure line on stderr, prefixed "veil: " (also in JSON mode: stdout stays parseable).</summary>
    public void Error(string line)
    {
        error.WriteLine("veil: " + line);
        error.Flush();
    }
}
