// Identity: accounts, zero-knowledge password sign-in, magic links, sessions, 2FA, recovery codes,
// API keys (spec/identity-api.md). The module's only public face: AddIdentityModule and
// MapIdentityEndpoints.
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Veil.Server.Identity.Services;
using Veil.Server.Platform.Auth;
using Veil.Server.Platform.Jobs;
using Veil.Server.Platform.RateLimiting;

namespace Veil.Server.Identity;

internal static class IdentityModule
{
    public const string SignInPolicy = "identity-signin";
    public const string PreloginPolicy = "identity-prelogin";
    public const string MagicLinkIpPolicy = "identity-magic-link-ip";

    public static IServiceCollection AddIdentityModule(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<IdentityOptions>().BindConfiguration(IdentityOptions.Section).ValidateOnStart();
        services.TryAddSingleton<IValidateOptions<IdentityOptions>, IdentityOptionsValidator>();
        services.AddVeilAuthentication();
        services.AddPeriodicJob<IdentityPurgeJob>();
        services.AddHttpContextAccessor();

        services.TryAddSingleton<PasswordHasher>();
        services.TryAddSingleton<AccessTokens>();
        services.TryAddSingleton<IdentityKeys>();
        services.TryAddScoped<SessionIssuer>();
        services.TryAddScoped<SignInFlow>();
        services.TryAddSingleton<SignInThrottle>();
        services.TryAddScoped<TwoFactorVerifier>();
        services.TryAddScoped<IdentityMail>();
        services.TryAddScoped<IRequestAuthenticator, IdentityAuthenticator>();

        // Per IP: sign-in attempts, prelogin lookups, magic-link requests. Per address: sign-in
        // attempts, magic links, and other mail (registration, verification).
        services.AddVeilRateLimitPolicy(SignInPolicy, RateLimitKey.Ip, permitLimit: 30, TimeSpan.FromMinutes(1));
        services.AddVeilRateLimitPolicy(PreloginPolicy, RateLimitKey.Ip, permitLimit: 60, TimeSpan.FromMinutes(1));
        services.AddVeilRateLimitPolicy(MagicLinkIpPolicy, RateLimitKey.Ip, permitLimit: 10, TimeSpan.FromHours(1));
        services.AddVeilRateLimitPolicy(SignInEndpoints.SignInTargetPolicy, RateLimitKey.Target, permitLimit: 30, TimeSpan.FromHours(1));
        services.AddVeilRateLimitPolicy(SignInEndpoints.MagicLinkTargetPolicy, RateLimitKey.Target, permitLimit: 5, TimeSpan.FromHours(1));
        services.AddVeilRateLimitPolicy(RegistrationEndpoints.MailTargetPolicy, RateLimitKey.Target, permitLimit: 5, TimeSpan.FromHours(1));
        return services;
    }

    public static IEndpointRouteBuilder MapIdentityEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/v1").WithTags("Identity");

        var accounts = api.MapGroup("/accounts").RequireRateLimiting(SignInPolicy);
        accounts.MapPost("/", RegistrationEndpoints.RegisterAsync).WithName("Identity_Register");
        accounts.MapPost("/verify-email", RegistrationEndpoints.VerifyEmailAsync).WithName("Identity_VerifyEmail");

        var auth = api.MapGroup("/auth");
        auth.MapPost("/prelogin", SignInEndpoints.PreloginAsync).RequireRateLimiting(PreloginPolicy).WithName("Identity_Prelogin");
        auth.MapPost("/login", SignInEndpoints.LoginAsync).RequireRateLimiting(SignInPolicy).WithName("Identity_Login");
        auth.MapPost("/login/2fa", SignInEndpoints.LoginTwoFactorAsync).RequireRateLimiting(SignInPolicy).WithName("Identity_LoginTwoFactor");
        auth.MapPost("/magic-link", SignInEndpoints.RequestMagicLinkAsync).RequireRateLimiting(MagicLinkIpPolicy).WithName("Identity_MagicLink");
        auth.MapPost("/magic-link/consume", SignInEndpoints.ConsumeMagicLinkAsync).RequireRateLimiting(SignInPolicy).WithName("Identity_MagicLinkConsume");
        auth.MapPost("/refresh", SignInEndpoints.RefreshAsync).RequireRateLimiting(VeilRateLimiting.PerIp).WithName("Identity_Refresh");
        auth.MapPost("/logout", SignInEndpoints.LogoutAsync).RequireRateLimiting(VeilRateLimiting.PerIp).WithName("Identity_Logout");
        auth.MapPost("/step-up", AccountEndpoints.StepUpAsync).RequireVeilUser(VeilAccess.Session).RequireRateLimiting(SignInPolicy).WithName("Identity_StepUp");

        // API keys may read who they are; everything else here manages the account and needs a session.
        api.MapGet("/account", AccountEndpoints.WhoAmIAsync).RequireVeilUser(VeilAccess.User).WithName("Identity_WhoAmI");

        var account = api.MapGroup("/account").RequireVeilUser(VeilAccess.Session);
        account.MapGet("/keys", AccountEndpoints.KeysAsync).WithName("Identity_Keys");
        account.MapPost("/password", AccountEndpoints.ChangePasswordAsync).RequireRateLimiting(SignInPolicy).WithName("Identity_ChangePassword");
        account.MapPost("/email", AccountEndpoints.ChangeEmailAsync).RequireStepUp().WithName("Identity_ChangeEmail");
        // A recovery address can receive magic links, so adding one with a stolen access token would
        // outlive the session's revocation: it needs a recent authentication like the primary email.
        account.MapPut("/recovery-email", AccountEndpoints.SetRecoveryEmailAsync).RequireStepUp().WithName("Identity_RecoveryEmail");
        account.MapDelete("/", AccountEndpoints.DeleteAsync).RequireStepUp().WithName("Identity_Delete");
        account.MapGet("/export", AccountEndpoints.ExportAsync).WithName("Identity_Export");

        account.MapGet("/2fa", AccountEndpoints.TwoFactorStatusAsync).WithName("Identity_TwoFactorStatus");
        account.MapPost("/2fa/totp", AccountEndpoints.StartTotpAsync).WithName("Identity_TotpStart");
        account.MapPost("/2fa/totp/confirm", AccountEndpoints.ConfirmTotpAsync).WithName("Identity_TotpConfirm");
        account.MapDelete("/2fa/totp", AccountEndpoints.DisableTotpAsync).RequireStepUp().WithName("Identity_TotpDisable");
        account.MapPost("/2fa/backup-codes", AccountEndpoints.RegenerateBackupCodesAsync).RequireStepUp().WithName("Identity_BackupCodes");
        account.MapPost("/recovery-codes", AccountEndpoints.RegenerateRecoveryCodesAsync).RequireStepUp().WithName("Identity_RecoveryCodes");

        account.MapGet("/sessions", AccountEndpoints.SessionsAsync).WithName("Identity_Sessions");
        account.MapDelete("/sessions/{id:guid}", AccountEndpoints.RevokeSessionAsync).WithName("Identity_RevokeSession");
        account.MapPost("/sessions/revoke-others", AccountEndpoints.RevokeOtherSessionsAsync).WithName("Identity_RevokeOtherSessions");
        account.MapGet("/sessions/current/unlock-share", AccountEndpoints.UnlockShare).WithName("Identity_UnlockShare");

        account.MapPost("/api-keys", AccountEndpoints.CreateApiKeyAsync).RequireStepUp().WithName("Identity_CreateApiKey");
        account.MapGet("/api-keys", AccountEndpoints.ApiKeysAsync).WithName("Identity_ApiKeys");
        account.MapDelete("/api-keys/{id:guid}", AccountEndpoints.RevokeApiKeyAsync).WithName("Identity_RevokeApiKey");
        return endpoints;
    }
}
