return await Veil.Cli.VeilCommand.RunAsync(args);
