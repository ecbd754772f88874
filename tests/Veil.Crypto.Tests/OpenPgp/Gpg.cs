// A throwaway gpg 2.2 home: the independent peer the OpenPGP tests encrypt to, decrypt with and sign with.
using System.Diagnostics;
using System.Text;

namespace Veil.Crypto.Tests.OpenPgp;

internal sealed record GpgRun(int ExitCode, byte[] Stdout, string Stderr, string Status)
{
    public string Text => Encoding.UTF8.GetString(Stdout);
}

internal sealed class Gpg : IDisposable
{
    private const string Program = "/usr/bin/gpg";

    public Gpg()
    {
        Home = Directory.CreateTempSubdirectory("veil-gpg-").FullName;
        File.WriteAllText(Path.Combine(Home, "gpg-agent.conf"), "allow-loopback-pinentry\n");
    }

    public string Home { get; }

    public static bool IsInstalled => File.Exists(Program);

    public async Task<GpgRun> RunAsync(byte[]? stdin, params string[] args)
    {
        var info = new ProcessStartInfo(Program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { "--homedir", Home, "--batch", "--no-tty", "--pinentry-mode", "loopback", "--passphrase", "", "--status-fd", "2", "--trust-model", "always" })
        {
            info.ArgumentList.Add(a);
        }

        foreach (string a in args)
        {
            info.ArgumentList.Add(a);
        }

        using Process process = Process.Start(info)!;
        Task<byte[]> stdout = ReadAllAsync(process.StandardOutput.BaseStream);
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.BaseStream.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        await process.WaitForExitAsync();
        string err = await stderr;
        string status = string.Join('\n', err.Split('\n').Where(l => l.StartsWith("[GNUPG:] ", StringComparison.Ordinal)));
        return new GpgRun(process.ExitCode, await stdout, err, status);
    }

    public async Task<GpgRun> CheckedAsync(byte[]? stdin, params string[] args)
    {
        GpgRun run = await RunAsync(stdin, args);
        Assert.True(run.ExitCode == 0, $"gpg {string.Join(' ', args)} failed ({run.ExitCode}): {run.Stderr}");
        return run;
    }

    /// <summary>Generates a key with gpg and returns its fingerprint.</summary>
    public async Task<string> GenerateAsync(string userId, string algorithm, string usage = "default", string expire = "never", params string[] extra)
    {
        await CheckedAsync(null, [.. extra, "--quick-gen-key", userId, algorithm, usage, expire]);
        GpgRun list = await CheckedAsync(null, "--with-colons", "--list-keys", userId);
        return list.Text.Split('\n').First(l => l.StartsWith("fpr:", StringComparison.Ordinal)).Split(':')[9];
    }

    public async Task<byte[]> ExportAsync(string who) => (await CheckedAsync(null, "--export", who)).Stdout;

    public void Dispose()
    {
        // The agent of this home would outlive the test otherwise.
        using (Process? kill = Process.Start(new ProcessStartInfo("/usr/bin/gpgconf", ["--homedir", Home, "--kill", "all"]) { UseShellExecute = false }))
        {
            kill?.WaitForExit();
        }

        try
        {
            Directory.Delete(Home, recursive: true);
        }
        catch (IOException)
        {
            // A socket the agent just released may still be listed; the temp folder is cleaned by the OS.
        }
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }
}
