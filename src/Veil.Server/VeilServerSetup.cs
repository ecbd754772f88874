using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Veil.Server;

/// <summary>
/// How a host (the <c>veil</c> command, the test kit) builds the server: its arguments, settings
/// that override every other configuration source, and hooks for tests.
/// </summary>
public sealed class VeilServerSetup
{
    /// <summary>Command-line style arguments (<c>--Veil:DataDirectory=/srv/veil</c>), like any .NET host.</summary>
    public IReadOnlyList<string> Args { get; init; } = [];

    /// <summary>Settings applied after appsettings, environment and arguments, so they win (CLI flags, test settings).</summary>
    public IDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);

    /// <summary>The ASP.NET environment name; null leaves it to ASPNETCORE_ENVIRONMENT / DOTNET_ENVIRONMENT.</summary>
    public string? EnvironmentName { get; init; }

    /// <summary>The clock; null means <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider? TimeProvider { get; init; }

    /// <summary>Extra log providers (e.g. a capturing provider). Veil's category filters still apply.</summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; init; }

    /// <summary>Extra services, registered after Veil's own (so they can replace them).</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }

    /// <summary>Extra endpoints, mapped after Veil's own (tests use this to exercise platform features).</summary>
    public Action<IEndpointRouteBuilder>? MapEndpoints { get; init; }
}

/// <summary>The server refused to start; each problem is one line that names a setting, never a value.</summary>
public sealed class VeilStartupException : Exception
{
    public VeilStartupException(IReadOnlyList<string> problems)
        : base("Veil cannot start:" + Environment.NewLine + string.Join(Environment.NewLine, problems ?? []))
    {
        Problems = problems ?? [];
    }

    public VeilStartupException()
        : this([])
    {
    }

    public VeilStartupException(string message)
        : this([message])
    {
    }

    public VeilStartupException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [message];
    }

    public IReadOnlyList<string> Problems { get; }
}
