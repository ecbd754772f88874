namespace Veil.Server;

public static class VeilServer
{
}
