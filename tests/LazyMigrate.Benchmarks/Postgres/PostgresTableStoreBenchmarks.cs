using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using LazyMigrate.Benchmarks.Configuration;
using LazyMigrate.PostgreSql;

namespace LazyMigrate.Benchmarks.Postgres;

/// <summary>
/// The PostgreSQL table store (<see cref="PostgreSqlTableOldStore{TOld}"/>) over an ordinary legacy table of 10,000
/// rows, beside hand-written Npgsql code (<see cref="HandWrittenCustomerReads"/>) reading the same table: a point read,
/// a batched read of 100 ids and a scan of the whole table, each category with its own baseline and A/A control. The
/// target (docs/benchmarks.md): at least 0.95 of the hand-written code's throughput.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[MedianThroughputRatio]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
[SteadyStateJob(RunStrategy.Throughput, launchCount: 3, warmupCount: 3, iterationCount: 15)]
public class PostgresTableStoreBenchmarks
{
    private const int Rows = 10_000;
    private const int Batch = 100;

    private readonly int[] _keys = [.. Enumerable.Range(1, Rows)];
    private readonly string[] _ids =
    [
        .. Enumerable.Range(1, Rows).Select(i => i.ToString(CultureInfo.InvariantCulture)),
    ];

    // 100 ids spread over the table, the same for both sides.
    private readonly int[] _batchKeys = [.. Enumerable.Range(0, Batch).Select(i => (i * 97 % Rows) + 1)];
    private string[] _batchIds = null!;

    private PostgresBench _bench = null!;
    private PostgreSqlTableOldStore<LegacyCustomer> _store = null!;
    private HandWrittenCustomerReads _handWritten = null!;
    private int _next;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _bench = await PostgresBench.StartAsync();
        await LegacyCustomers.CreateAsync(_bench.DataSource, Rows);
        var options = new PostgreSqlTableStoreOptions<LegacyCustomer> { TableName = LegacyCustomers.Table };
        _store = new PostgreSqlTableOldStore<LegacyCustomer>(_bench.OwnPool(), options);
        _handWritten = new HandWrittenCustomerReads(_bench.OwnPool(), options.ScanPageSize);
        _batchIds = [.. _batchKeys.Select(k => k.ToString(CultureInfo.InvariantCulture))];
    }

    [GlobalCleanup]
    public async Task CleanupAsync() => await _bench.DisposeAsync();

    /// <summary>Reads one row by key, the next of the table's ids on every call.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("FindAsync")]
    public Task<LegacyCustomer?> HandWrittenFind() => _handWritten.FindAsync(_keys[NextIndex()]);

    /// <summary>
    /// The baseline's very code again, in processes and on servers of its own: an A/A control. How far its row lands
    /// from 1.00 is how far apart this table puts the same code, and so the least difference it can tell.
    /// </summary>
    [Benchmark]
    [BenchmarkCategory("FindAsync")]
    public Task<LegacyCustomer?> HandWrittenFindControl() => _handWritten.FindAsync(_keys[NextIndex()]);

    /// <summary>The table store's <c>FindAsync(id)</c> for the same row.</summary>
    [Benchmark]
    [BenchmarkCategory("FindAsync")]
    public async Task<LegacyCustomer?> TableStoreFind() => await _store.FindAsync(_ids[NextIndex()]);

    /// <summary>Reads 100 rows by key with <c>= ANY($1)</c> and an <c>integer[]</c> parameter.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("FindManyAsync")]
    public async Task<int> HandWrittenFindMany() => Found((await _handWritten.FindManyAsync(_batchKeys)).Count);

    /// <summary>The baseline's very code again: the A/A control.</summary>
    [Benchmark]
    [BenchmarkCategory("FindManyAsync")]
    public async Task<int> HandWrittenFindManyControl() => Found((await _handWritten.FindManyAsync(_batchKeys)).Count);

    /// <summary>The table store's <c>FindManyAsync</c> of the same 100 ids.</summary>
    [Benchmark]
    [BenchmarkCategory("FindManyAsync")]
    public async Task<int> TableStoreFindMany() => Found((await _store.FindManyAsync(_batchIds)).Count);

    /// <summary>The hand-written keyset loop over the whole table, in pages of the store's page size.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("ScanAsync")]
    public async Task<int> HandWrittenScan() => Scanned(await _handWritten.ScanAsync());

    /// <summary>The baseline's very code again: the A/A control.</summary>
    [Benchmark]
    [BenchmarkCategory("ScanAsync")]
    public async Task<int> HandWrittenScanControl() => Scanned(await _handWritten.ScanAsync());

    /// <summary>The table store's <c>ScanAsync(null)</c> over the whole table.</summary>
    [Benchmark]
    [BenchmarkCategory("ScanAsync")]
    public async Task<int> TableStoreScan()
    {
        int rows = 0;
        await foreach (KeyValuePair<string, LegacyCustomer> row in _store.ScanAsync(null))
        {
            rows++;
        }

        return Scanned(rows);
    }

    private static int Found(int count) =>
        count == Batch ? count : throw new InvalidOperationException($"Read {count} of {Batch} rows.");

    private static int Scanned(int count) =>
        count == Rows ? count : throw new InvalidOperationException($"Scanned {count} of {Rows} rows.");

    private int NextIndex()
    {
        int index = _next;
        _next = index + 1 == Rows ? 0 : index + 1;
        return index;
    }
}
