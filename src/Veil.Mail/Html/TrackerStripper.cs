// Tracker stripping for HTML mail, with AngleSharp. Removes tracking pixels — images of at most 1×1 (by width/height
// attributes or inline style), hidden images (display:none, visibility:hidden, opacity:0, the hidden attribute) and
// images served by a known tracking host (tracker-hosts.txt) — and, optionally, strips click-tracking query
// parameters (utm_*, mc_eid, fbclid, gclid, …) from links. An HTML part is rewritten only when something was removed,
// through MimeRewriter, so text parts, attachments and every other byte of the message stay identical.
// Limits: images referenced from CSS (background-image) and <link>/<script> are not examined; the serialised HTML of
// a changed part is AngleSharp's, not the sender's formatting.
using AngleSharp;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using Veil.Mail.Mime;

namespace Veil.Mail.Html;

/// <summary>Options for <see cref="TrackerStripper"/>.</summary>
public sealed record TrackerStripOptions
{
    /// <summary>Remove click-tracking query parameters from links. Default true.</summary>
    public bool StripLinkParameters { get; init; } = true;

    /// <summary>Tracking hosts in addition to the built-in list.</summary>
    public IReadOnlyCollection<string> AdditionalTrackerHosts { get; init; } = [];
}

/// <summary>Why an element or parameter was removed.</summary>
public enum TrackerRemovalKind
{
    /// <summary>An image of at most 1×1 pixel.</summary>
    TinyImage,
    /// <summary>An image hidden by style or attribute.</summary>
    HiddenImage,
    /// <summary>An image from a known tracking host.</summary>
    TrackerHostImage,
    /// <summary>A tracking query parameter removed from a link.</summary>
    LinkParameter,
}

/// <summary>One removal: what kind, and the host or parameter name involved (never the full URL).</summary>
/// <param name="Kind">The rule that matched.</param>
/// <param name="Detail">The image's host, or the parameter name.</param>
public sealed record TrackerRemoval(TrackerRemovalKind Kind, string Detail);

/// <summary>What tracker stripping removed.</summary>
/// <param name="Removals">Every removal, in document order.</param>
public sealed record TrackerStripReport(IReadOnlyList<TrackerRemoval> Removals)
{
    /// <summary>Images removed.</summary>
    public int ImagesRemoved => Removals.Count(r => r.Kind != TrackerRemovalKind.LinkParameter);

    /// <summary>Link parameters removed.</summary>
    public int LinkParametersRemoved => Removals.Count(r => r.Kind == TrackerRemovalKind.LinkParameter);

    /// <summary>True when nothing was removed.</summary>
    public bool IsEmpty => Removals.Count == 0;
}

/// <summary>The stripped HTML and its report.</summary>
/// <param name="Html">The HTML (the input unchanged when nothing was removed).</param>
/// <param name="Report">What was removed.</param>
public sealed record HtmlStripResult(string Html, TrackerStripReport Report);

/// <summary>The stripped message and its report.</summary>
/// <param name="Message">The message bytes (the input unchanged when nothing was removed).</param>
/// <param name="Report">What was removed, over all HTML parts.</param>
public sealed record MessageStripResult(byte[] Message, TrackerStripReport Report);

/// <summary>Removes tracking pixels and link-tracking parameters from HTML mail.</summary>
public static class TrackerStripper
{
    private static readonly string[] TrackingParameters =
    [
        "mc_eid", "mc_cid", "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid", "twclid",
        "_hsenc", "_hsmi", "mkt_tok", "oly_enc_id", "oly_anon_id", "vero_id", "vero_conv", "wickedid", "ck_subscriber_id",
        "__s", "ss_source", "ss_email_id", "_ke", "trk", "trkcampaign",
    ];

    private static readonly Lazy<HashSet<string>> BuiltInHosts = new(LoadHosts);

    /// <summary>The built-in tracking hosts (from the embedded tracker-hosts.txt).</summary>
    public static IReadOnlyCollection<string> KnownTrackerHosts => BuiltInHosts.Value;

    // One parser per thread: building one (its configuration and browsing context) cost as much as parsing a
    // newsletter; a parser is not documented as safe for concurrent use, so threads do not share one.
    [ThreadStatic]
    private static HtmlParser? t_parser;

    /// <summary>Strips trackers from an HTML document or fragment.</summary>
    /// <param name="html">The HTML.</param>
    /// <param name="options">Options; defaults when null.</param>
    public static HtmlStripResult StripHtml(string html, TrackerStripOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(html);
        options ??= new TrackerStripOptions();
        using var document = (t_parser ??= new HtmlParser()).ParseDocument(html);
        var removals = new List<TrackerRemoval>();
        foreach (var image in document.QuerySelectorAll("img").ToList())
        {
            var kind = Classify(image, options);
            if (kind is { } k)
            {
                removals.Add(new TrackerRemoval(k, HostOf(image.GetAttribute("src")) ?? string.Empty));
                image.Remove();
            }
        }

        if (options.StripLinkParameters)
        {
            foreach (var link in document.QuerySelectorAll("a[href], area[href]"))
            {
                var href = link.GetAttribute("href")!;
                var cleaned = StripParameters(href, removals);
                if (!ReferenceEquals(cleaned, href))
                {
                    link.SetAttribute("href", cleaned);
                }
            }
        }

        return removals.Count == 0
            ? new HtmlStripResult(html, new TrackerStripReport(removals))
            : new HtmlStripResult(document.ToHtml(), new TrackerStripReport(removals));
    }

    /// <summary>
    /// Strips trackers from every text/html part of a message that is not an attachment, re-encoding each changed
    /// part in its charset and transfer encoding; all other bytes are kept.
    /// </summary>
    /// <param name="message">The parsed message.</param>
    /// <param name="options">Options; defaults when null.</param>
    public static MessageStripResult StripMessage(MimeMessage message, TrackerStripOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        var rewriter = new MimeRewriter(message);
        var removals = new List<TrackerRemoval>();
        foreach (var part in message.Root.DescendantsAndSelf())
        {
            if (part.IsMultipart || part.ContentType.Value != "text/html" || part.IsAttachmentDisposition || part.TransferEncoding == MimeTransferEncoding.Other)
            {
                continue;
            }

            var result = StripHtml(part.GetText(), options);
            if (!result.Report.IsEmpty)
            {
                rewriter.ReplaceText(part, result.Html);
                removals.AddRange(result.Report.Removals);
            }
        }

        var bytes = rewriter.ToArray();
        return new MessageStripResult(bytes, new TrackerStripReport(removals));
    }

    private static TrackerRemovalKind? Classify(IElement image, TrackerStripOptions options)
    {
        var style = ParseStyle(image.GetAttribute("style"));
        var width = Pixels(image.GetAttribute("width")) ?? Pixels(style.GetValueOrDefault("width")) ?? Pixels(style.GetValueOrDefault("max-width"));
        var height = Pixels(image.GetAttribute("height")) ?? Pixels(style.GetValueOrDefault("height")) ?? Pixels(style.GetValueOrDefault("max-height"));
        if ((width <= 1 && (height is null || height <= 1)) || (height <= 1 && width is null))
        {
            return TrackerRemovalKind.TinyImage;
        }

        if (image.HasAttribute("hidden")
            || style.GetValueOrDefault("display") == "none"
            || style.GetValueOrDefault("visibility") == "hidden"
            || (style.TryGetValue("opacity", out var opacity) && double.TryParse(opacity, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var o) && o <= 0))
        {
            return TrackerRemovalKind.HiddenImage;
        }

        var host = HostOf(image.GetAttribute("src"));
        if (host is not null && (IsListed(host, BuiltInHosts.Value) || IsListed(host, options.AdditionalTrackerHosts)))
        {
            return TrackerRemovalKind.TrackerHostImage;
        }

        return null;
    }

    private static bool IsListed(string host, IEnumerable<string> list)
    {
        foreach (var entry in list)
        {
            if (host.Equals(entry, StringComparison.OrdinalIgnoreCase) || host.EndsWith("." + entry, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static string? HostOf(string? url)
    {
        if (url is null)
        {
            return null;
        }

        var trimmed = url.Trim();
        if (trimmed.StartsWith("//", StringComparison.Ordinal))
        {
            trimmed = "https:" + trimmed;
        }

        return Uri.TryCreate(trimmed, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri.Host.ToLowerInvariant() : null;
    }

    private static Dictionary<string, string> ParseStyle(string? style)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (style is null)
        {
            return result;
        }

        foreach (var declaration in style.Split(';'))
        {
            var colon = declaration.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                var value = declaration[(colon + 1)..].Replace("!important", string.Empty, StringComparison.OrdinalIgnoreCase).Trim().ToLowerInvariant();
                result[declaration[..colon].Trim()] = value;
            }
        }

        return result;
    }

    private static double? Pixels(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var v = value.Trim().ToLowerInvariant();
        if (v.EndsWith("px", StringComparison.Ordinal))
        {
            v = v[..^2].TrimEnd();
        }

        return double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d) ? d : null;
    }

    /// <summary>Removes tracking parameters, keeping the other parameters' text and order as written.</summary>
    private static string StripParameters(string href, List<TrackerRemoval> removals)
    {
        var question = href.IndexOf('?', StringComparison.Ordinal);
        if (question < 0)
        {
            return href;
        }

        var hash = href.IndexOf('#', question);
        var query = hash < 0 ? href[(question + 1)..] : href[(question + 1)..hash];
        var fragment = hash < 0 ? string.Empty : href[hash..];
        var kept = new List<string>();
        var removed = false;
        foreach (var pair in query.Split('&'))
        {
            var name = Uri.UnescapeDataString(pair.Split('=')[0]).ToLowerInvariant();
            if (name.StartsWith("utm_", StringComparison.Ordinal) || TrackingParameters.Contains(name))
            {
                removals.Add(new TrackerRemoval(TrackerRemovalKind.LinkParameter, name));
                removed = true;
                continue;
            }

            kept.Add(pair);
        }

        if (!removed)
        {
            return href;
        }

        return href[..question] + (kept.Count > 0 ? "?" + string.Join('&', kept) : string.Empty) + fragment;
    }

    private static HashSet<string> LoadHosts()
    {
        using var stream = typeof(TrackerStripper).Assembly.GetManifestResourceStream("Veil.Mail.Html.tracker-hosts.txt")
            ?? throw new InvalidOperationException("The embedded tracker-hosts.txt is missing from Veil.Mail.");
        using var reader = new StreamReader(stream);
        var hosts = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        while (reader.ReadLine() is { } line)
        {
            line = line.Trim();
            if (line.Length > 0 && !line.StartsWith('#'))
            {
                hosts.Add(line);
            }
        }

        return hosts;
    }
}
