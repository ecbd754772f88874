using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Veil.Server.Tests.Kit;

/// <summary>
/// A real nginx (Debian's nginx-light, installed by test.sh) on loopback as the load balancer in front of several
/// Veil nodes: round robin, request and response bodies streamed (not buffered to disk), WebSocket upgrades passed
/// through, X-Forwarded-For / X-Forwarded-Proto set. The configuration is the one docs/OPERATIONS.md shows (Scaling),
/// with loopback ports. Dispose to stop it.
/// </summary>
public sealed class Nginx : IAsyncDisposable
{
    public const string Binary = "/usr/sbin/nginx";

    private readonly Process _process;
    private readonly string _directory;

    private Nginx(Process process, string directory, Uri address)
    {
        _process = process;
        _directory = directory;
        Address = address;
    }

    public Uri Address { get; }

    public static async Task<Nginx> StartAsync(IEnumerable<Uri> nodes)
    {
        Assert.True(File.Exists(Binary), $"nginx is missing ({Binary}): test.sh installs it (apt-get install nginx-light)");
        var directory = Directory.CreateTempSubdirectory("veil-nginx-").FullName;
        var port = FreePort();
        var servers = string.Concat(nodes.Select(n => $"        server 127.0.0.1:{n.Port};\n"));
        var config = $$"""
            worker_processes 1;
            pid {{directory}}/nginx.pid;
            error_log {{directory}}/error.log warn;
            events { worker_connections 512; }
            http {
                access_log off;
                client_body_temp_path {{directory}}/body;
                proxy_temp_path {{directory}}/proxy;
                fastcgi_temp_path {{directory}}/fastcgi;
                uwsgi_temp_path {{directory}}/uwsgi;
                scgi_temp_path {{directory}}/scgi;
                map $http_upgrade $connection_upgrade { default upgrade; '' close; }
                upstream veil {
            {{servers}}        keepalive 16;
                }
                server {
                    listen 127.0.0.1:{{port}};
                    client_max_body_size 0;
                    location / {
                        proxy_pass http://veil;
                        proxy_http_version 1.1;
                        proxy_set_header Host $host;
                        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                        proxy_set_header X-Forwarded-Proto $scheme;
                        proxy_set_header Upgrade $http_upgrade;
                        proxy_set_header Connection $connection_upgrade;
                        proxy_request_buffering off;
                        proxy_buffering off;
                        proxy_read_timeout 1h;
                        proxy_next_upstream error timeout;
                    }
                }
            }
            """;
        var file = Path.Combine(directory, "nginx.conf");
        await File.WriteAllTextAsync(file, config);
        var start = new ProcessStartInfo(Binary) { UseShellExecute = false, RedirectStandardError = true };
        foreach (var argument in new[] { "-p", directory, "-e", Path.Combine(directory, "error.log"), "-c", file, "-g", "daemon off;" })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("nginx did not start");
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        var address = new Uri($"http://127.0.0.1:{port}");
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            Assert.False(process.HasExited, "nginx exited: " + (File.Exists(Path.Combine(directory, "error.log")) ? File.ReadAllText(Path.Combine(directory, "error.log")) : ""));
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port, deadline.Token);
                return new Nginx(process, directory, address);
            }
            catch (SocketException)
            {
                await Task.Delay(20, deadline.Token); // polling a port that is not yet bound; no timing is asserted
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
        return ValueTask.CompletedTask;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
