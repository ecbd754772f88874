// When a switch acts (spec/vault-api.md, Switch). Reminders go to the owner at the deadline,
// half-way through grace and 24 h before release (only when grace is longer than 24 h), in time
// order with duplicates merged; after the last one, the release. Pure functions of the switch's
// stored settings, so the scheduler, the API and the tests agree on every instant.
namespace Veil.Server.Vault;

internal enum VaultReminderKind
{
    Deadline,
    HalfGrace,
    DayBefore,
}

internal readonly record struct VaultReminder(DateTimeOffset At, VaultReminderKind Kind);

internal static class VaultSchedule
{
    public static IReadOnlyList<VaultReminder> Reminders(VaultSwitch s)
    {
        var deadline = s.Deadline;
        var release = s.ReleaseAt;
        var list = new List<VaultReminder>
        {
            new(deadline, VaultReminderKind.Deadline),
            new(deadline.AddSeconds(s.GraceSeconds / 2.0), VaultReminderKind.HalfGrace),
        };
        if (s.GraceSeconds > 24 * 3600)
        {
            list.Add(new(release.AddHours(-24), VaultReminderKind.DayBefore));
        }

        return [.. list.OrderBy(r => r.At).ThenBy(r => r.Kind).DistinctBy(r => r.At)];
    }

    /// <summary>The next instant the scheduler must look at this switch, or null if nothing is scheduled.</summary>
    public static DateTimeOffset? NextAction(VaultSwitch s)
    {
        if (s.State is VaultSwitchState.Paused or VaultSwitchState.Released)
        {
            return null;
        }

        var reminders = Reminders(s);
        return s.RemindersSent < reminders.Count ? reminders[s.RemindersSent].At : s.ReleaseAt;
    }

    public static DateTimeOffset? NextReminder(VaultSwitch s)
    {
        if (s.State is VaultSwitchState.Paused or VaultSwitchState.Released)
        {
            return null;
        }

        var reminders = Reminders(s);
        return s.RemindersSent < reminders.Count ? reminders[s.RemindersSent].At : null;
    }

    public static string Stage(VaultSwitch s) => s.State switch
    {
        VaultSwitchState.Paused => "paused",
        VaultSwitchState.Released => "released",
        VaultSwitchState.Armed => "waiting",
        _ => s.RemindersSent == 0 ? "waiting" : Reminders(s)[Math.Min(s.RemindersSent, Reminders(s).Count) - 1].Kind switch
        {
            VaultReminderKind.Deadline => "deadline passed",
            VaultReminderKind.HalfGrace => "half-way through grace",
            _ => "release within 24 hours",
        },
    };
}
