// How fast `veil admin notify` hands a notice for 1,000 accounts to the outbox, unpaced (--rate 0): to the development
// outbox (.eml files) and to the durable outbound queue (a smarthost configured but not running: the command only
// enqueues; `veil serve` delivers). Prints the numbers; runs only with VEIL_BENCH=1:
//   VEIL_BENCH=1 dotnet test tests/Veil.Cli.Tests --no-build --filter FullyQualifiedName~AdminNotifyBench --logger "console;verbosity=detailed"
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Veil.Server.Tests.Kit;
using Xunit.Abstractions;

namespace Veil.Cli.Tests.Admin;

[Collection(AccountVerbsTestGroup.Name)]
public sealed class AdminNotifyBench(ITestOutputHelper output)
{
    [BenchTheory]
    [InlineData("outbox")]
    [InlineData("queue")]
    public async Task Notify_ThousandAccounts_Unpaced(string outbox)
    {
        await using var server = await VeilTestServer.StartAsync();
        var config = Directory.CreateTempSubdirectory("veil-notify-bench-").FullName;
        try
        {
            var expected = await NoticeAccounts.CreateAsync(server, 1000, "b");
            var bodyFile = Path.Combine(config, "notice.txt");
            await File.WriteAllTextAsync(bodyFile, "A notice to measure.\n");
            var cli = new VeilCli(server.BaseAddress, Path.Combine(config, "veil"));
            var environment = outbox == "queue" ? new Dictionary<string, string> { ["Veil__Mail__Smarthost"] = "127.0.0.1:9" } : null;
            string[] target = ["--data", server.DataDirectory, .. server.Services.GetRequiredService<IConfiguration>()["ConnectionStrings:Postgres"] is { Length: > 0 } pg ? new[] { "--postgres", pg } : []];

            var result = await cli.RunAsync(["admin", "notify", "--subject", "Bench", "--body-file", bodyFile, "--rate", "0", "--json", .. target], environment: environment);

            Assert.True(result.ExitCode == 0, result.ToString());
            var summary = result.Event("notice-sent");
            Assert.Equal(expected.Count, summary.GetProperty("sent").GetInt32());
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"notify to the {outbox} on {server.Database}: {summary.GetProperty("sentNow").GetInt32()} addresses of 1,000 accounts in {summary.GetProperty("seconds").GetDouble():0.00} s = {summary.GetProperty("messagesPerSecond").GetDouble():0} messages/s (load {File.ReadAllText("/proc/loadavg").Split(' ')[0]})"));
        }
        finally
        {
            Directory.Delete(config, recursive: true);
        }
    }
}
