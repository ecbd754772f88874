using System.Text.Json;
using Spectre.Console;

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

    /// <summary>Reports a list: a table for people (<paramref name="empty"/> when there are no rows), <paramref name="data"/> as JSON otherwise.</summary>
    public void Table<T>(string[] headers, IEnumerable<string[]> rows, string empty, T data)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(rows);
        if (json)
        {
            Event(string.Empty, data);
            return;
        }

        var list = rows.ToList();
        if (list.Count == 0)
        {
            Event(empty, data);
            return;
        }

        var table = new Table().Border(TableBorder.Rounded);
        foreach (var header in headers)
        {
            table.AddColumn(new TableColumn(header).NoWrap());
        }

        foreach (var row in list)
        {
            table.AddRow(row.Select(cell => Markup.Escape(cell)).ToArray());
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
        if (Console.IsOutputRedirected)
        {
            // No terminal width to fit: ids and times must not be broken across lines in a pipe.
            console.Profile.Width = 200;
        }

        console.Write(table);
        output.Flush();
    }

    /// <summary>A failure line on stderr, prefixed "veil: " (also in JSON mode: stdout stays parseable).</summary>
    public void Error(string line)
    {
        error.WriteLine("veil: " + line);
        error.Flush();
    }
}
