using System.Globalization;

namespace Veil.Server.Platform.Outbox;

/// <summary>
/// A duration as a person reads it in a mail: "24 hours", "7 days", "1 hour and 30 minutes", never "1440 minutes".
/// Under two days the units are hours and minutes ("36 hours" reads better than "1 day and 12 hours"), from two days
/// on days and hours; the two largest non-zero units are named. Seconds are rounded up to a whole minute.
/// </summary>
internal static class HumanDuration
{
    public static string Format(TimeSpan duration)
    {
        if (duration <= TimeSpan.Zero)
        {
            return "0 minutes";
        }

        var totalMinutes = (long)Math.Ceiling(duration.TotalMinutes);
        var units = totalMinutes < 2 * 1440
            ? new (long Value, string Name)[] { (totalMinutes / 60, "hour"), (totalMinutes % 60, "minute") }
            : [(totalMinutes / 1440, "day"), (totalMinutes / 60 % 24, "hour"), (totalMinutes % 60, "minute")];
        var named = units.SkipWhile(u => u.Value == 0).Take(2).Where(u => u.Value != 0)
            .Select(u => string.Create(CultureInfo.InvariantCulture, $"{u.Value} {u.Name}{(u.Value == 1 ? "" : "s")}"))
            .ToList();
        return string.Join(" and ", named);
    }
}
