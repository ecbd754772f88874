using System.Globalization;

namespace Veil.Server.Platform.Problems;

/// <summary>Limits said the way people read them in problem details ("7 days", not "604800 seconds").</summary>
internal static class HumanUnits
{
    /// <summary>A duration in its largest whole unit: "7 days", "12 hours", "5 minutes", "90 seconds".</summary>
    public static string Duration(long seconds) => seconds switch
    {
        >= 86400 when seconds % 86400 == 0 => Plural(seconds / 86400, "day"),
        >= 3600 when seconds % 3600 == 0 => Plural(seconds / 3600, "hour"),
        >= 60 when seconds % 60 == 0 => Plural(seconds / 60, "minute"),
        _ => Plural(seconds, "second"),
    };

    private static string Plural(long n, string unit) =>
        string.Create(CultureInfo.InvariantCulture, $"{n} {unit}{(n == 1 ? string.Empty : "s")}");
}
