using LazyMigrate.TestKit.Servers;
using StackExchange.Redis;

namespace LazyMigrate.DistributedLock.Tests;

/// <summary>The Redis fixture really runs Redis, on 127.0.0.1, without persistence.</summary>
[Collection("redis")]
public sealed class RedisServerTests(RedisServer server)
{
    [Fact]
    public async Task ConnectionString_ReachesARedisThatStoresValues()
    {
        await using ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(
            server.ConnectionString
        );
        IDatabase database = connection.GetDatabase();
        string key = $"fixture:{Guid.NewGuid():N}";

        await database.StringSetAsync(key, "value");

        Assert.Equal("value", (string?)await database.StringGetAsync(key));
        Assert.StartsWith("127.0.0.1:", server.ConnectionString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_KeepsNothingOnDisk()
    {
        await using ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(
            $"{server.ConnectionString},allowAdmin=true"
        );
        IServer redis = connection.GetServer(server.ConnectionString);

        KeyValuePair<string, string>[] save = await redis.ConfigGetAsync("save");
        KeyValuePair<string, string>[] appendOnly = await redis.ConfigGetAsync("appendonly");

        Assert.Equal("", Assert.Single(save).Value);
        Assert.Equal("no", Assert.Single(appendOnly).Value);
    }
}
