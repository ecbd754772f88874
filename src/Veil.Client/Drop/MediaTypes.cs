namespace Veil.Client.Drop;

/// <summary>A small extension → media type table for the metadata record (the receiver only displays it).</summary>
public static class MediaTypes
{
    private static readonly Dictionary<string, string> ByExtension = new(StringComparer.OrdinalIgnoreCase)
    {
        [".txt"] = "text/plain", [".md"] = "text/markdown", [".csv"] = "text/csv", [".html"] = "text/html", [".json"] = "application/json",
        [".pdf"] = "application/pdf", [".zip"] = "application/zip", [".gz"] = "application/gzip", [".tar"] = "application/x-tar",
        [".7z"] = "application/x-7z-compressed", [".png"] = "image/png", [".jpg"] = "image/jpeg", [".jpeg"] = "image/jpeg",
        [".gif"] = "image/gif", [".webp"] = "image/webp", [".svg"] = "image/svg+xml", [".mp3"] = "audio/mpeg", [".ogg"] = "audio/ogg",
        [".wav"] = "audio/wav", [".mp4"] = "video/mp4", [".webm"] = "video/webm", [".mov"] = "video/quicktime",
        [".doc"] = "application/msword", [".docx"] = "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        [".xlsx"] = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", [".odt"] = "application/vnd.oasis.opendocument.text",
    };

    /// <summary>The media type for a file name, or <c>application/octet-stream</c>.</summary>
    public static string Guess(string fileName) =>
        ByExtension.TryGetValue(Path.GetExtension(fileName), out string? type) ? type : "application/octet-stream";
}
