// Breach notices (issue 24 point 4): the operator's `veil admin notify` (NoticeAdmin) and the account's banner
// (AccountNotices). The module's only public face: AddNoticesModule and MapNoticesEndpoints.
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Veil.Server.Platform.Audit;
using Veil.Server.Platform.Auth;
using Veil.Server.Platform.Outbox;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Notices;

internal static class NoticesModule
{
    /// <summary>
    /// The default pace of a notice's mailing, in messages a second. Measured (docs/PERFORMANCE.md, 1,000 accounts,
    /// machine load 39-47): the development outbox took 285-384 a second and the durable queue 56-85 (each enqueue
    /// fsyncs twice), so the queue is not the limit at 20; the smarthost is: common relays accept 10-100 messages a
    /// second per account before they defer. At 20 a second 100,000 accounts (200,000 addresses at most) are mailed in
    /// under three hours, well inside 72 hours.
    /// </summary>
    public const double DefaultMessagesPerSecond = 20;

    public static IServiceCollection AddNoticesModule(this IServiceCollection services, IConfiguration configuration)
    {
        var value = configuration["Veil:Notify:MessagesPerSecond"];
        var rate = DefaultMessagesPerSecond;
        if (value is not null && (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out rate) || rate is < 0 or > 100_000 || double.IsNaN(rate)))
        {
            throw new InvalidOperationException("Veil:Notify:MessagesPerSecond (env Veil__Notify__MessagesPerSecond) must be a number from 0 (no pace) to 100000.");
        }

        services.TryAddSingleton(new NoticeOptions(rate));
        services.TryAddScoped(sp => new NoticeAdmin(sp.GetRequiredService<VeilDbContext>(), sp.GetRequiredService<IMailOutbox>(),
            sp.GetRequiredService<AdminAudit>(), sp.GetRequiredService<NoticeOptions>(), sp.GetRequiredService<TimeProvider>()));
        return services;
    }

    public static IEndpointRouteBuilder MapNoticesEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // API keys may read and acknowledge notices too: a script signed in with a key should see the banner the CLI shows.
        var notices = endpoints.MapGroup("/api/v1/account/notices").WithTags("Notices").RequireVeilUser(VeilAccess.User);
        notices.MapGet("/", AccountNotices.ListAsync).WithName("Notices_List");
        notices.MapPost("/{id:guid}/ack", AccountNotices.AckAsync).WithName("Notices_Ack");
        return endpoints;
    }
}
