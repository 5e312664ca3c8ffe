using Polly;
using Polly.Simmy;
using Polly.Simmy.Fault;
using Polly.Simmy.Latency;

namespace LazyMigrate.TestKit.Chaos;

/// <summary>
/// Polly's chaos strategies around the calls of one store: latency and a fault before a call (the call never reaches
/// the store), and a fault after it (the store did the work, the reply was lost). Every strategy draws from one seeded
/// <see cref="Random"/> (the chaos options' <c>Randomizer</c>), so a run injects the same sequence of faults into the
/// same sequence of calls; <see cref="Enabled"/> switches every strategy off at once, when a test lets the system heal.
/// </summary>
/// <remarks>
/// Concurrent calls draw in the order they arrive, which scheduling decides: the sequence of draws is reproducible, the
/// call each one falls on may not be. <see cref="Calls"/> and <see cref="Faults"/> count only while enabled, so a test
/// can check the fault rate it ran under.
/// </remarks>
public sealed class StoreChaos
{
    private readonly Random _random;
    private readonly object _draw = new();
    private readonly ResiliencePipeline _before;
    private readonly ResiliencePipeline _after;
    private volatile bool _enabled = true;
    private int _calls;
    private int _faults;
    private int _lostReplies;
    private int _delays;

    /// <summary>Initializes a new instance of the <see cref="StoreChaos"/> class, enabled.</summary>
    /// <param name="name">What the faults stand for, in their messages: "the old store", "the outbox".</param>
    /// <param name="seed">The seed of the draws.</param>
    /// <param name="faultRate">The share of calls that fail before they reach the store.</param>
    /// <param name="lostReplyRate">The share of the calls that reached it whose reply is lost: they fail after.</param>
    /// <param name="latencyRate">The share of calls delayed by <paramref name="latency"/> first.</param>
    /// <param name="latency">The delay; 2 ms when <see langword="null"/>.</param>
    public StoreChaos(
        string name,
        int seed,
        double faultRate,
        double lostReplyRate = 0,
        double latencyRate = 0,
        TimeSpan? latency = null
    )
    {
        _random = new Random(seed);
        _before = new ResiliencePipelineBuilder()
            .AddChaosLatency(
                new ChaosLatencyStrategyOptions
                {
                    InjectionRate = latencyRate,
                    Latency = latency ?? TimeSpan.FromMilliseconds(2),
                    EnabledGenerator = IsEnabled,
                    Randomizer = Draw,
                    OnLatencyInjected = _ => Count(ref _delays),
                }
            )
            .AddChaosFault(Fault(faultRate, $"{name}: a fault injected before the call reached the store", false))
            .Build();
        _after = new ResiliencePipelineBuilder()
            .AddChaosFault(Fault(lostReplyRate, $"{name}: the call ran, and its reply was lost", true))
            .Build();
    }

    /// <summary>Gets or sets whether faults and latency are injected.</summary>
    public bool Enabled
    {
        get => _enabled;
        set => _enabled = value;
    }

    /// <summary>Gets the calls made while enabled.</summary>
    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Gets the faults injected, before or after a call.</summary>
    public int Faults => Volatile.Read(ref _faults);

    /// <summary>Gets the faults injected after a call that reached the store.</summary>
    public int LostReplies => Volatile.Read(ref _lostReplies);

    /// <summary>Gets the calls delayed.</summary>
    public int Delays => Volatile.Read(ref _delays);

    /// <summary>Gets the share of the calls made while enabled that failed.</summary>
    public double FaultRate => Calls == 0 ? 0 : (double)Faults / Calls;

    /// <summary>Runs one call of the store through the chaos.</summary>
    public async ValueTask RunAsync(Func<CancellationToken, ValueTask> call, CancellationToken cancellationToken)
    {
        CountCall();
        await _before.ExecuteAsync(call, cancellationToken);
        await _after.ExecuteAsync(static _ => ValueTask.CompletedTask, cancellationToken);
    }

    /// <summary>Runs one call of the store through the chaos.</summary>
    public async ValueTask<T> RunAsync<T>(
        Func<CancellationToken, ValueTask<T>> call,
        CancellationToken cancellationToken
    )
    {
        CountCall();
        T result = await _before.ExecuteAsync(call, cancellationToken);
        await _after.ExecuteAsync(static _ => ValueTask.CompletedTask, cancellationToken);
        return result;
    }

    /// <summary>A fault strategy of this chaos: the same switch, the same draws.</summary>
    private ChaosFaultStrategyOptions Fault(double rate, string message, bool afterTheCall) =>
        new()
        {
            InjectionRate = rate,
            EnabledGenerator = IsEnabled,
            Randomizer = Draw,
            FaultGenerator = _ => new ValueTask<Exception?>(new InjectedFaultException(message)),
            OnFaultInjected = _ =>
            {
                if (afterTheCall)
                {
                    Interlocked.Increment(ref _lostReplies);
                }

                return Count(ref _faults);
            },
        };

    private ValueTask<bool> IsEnabled(EnabledGeneratorArguments arguments) => new(_enabled);

    // Random is not thread-safe: the draws of concurrent calls take turns.
    private double Draw()
    {
        lock (_draw)
        {
            return _random.NextDouble();
        }
    }

    private void CountCall()
    {
        if (_enabled)
        {
            Interlocked.Increment(ref _calls);
        }
    }

    private static ValueTask Count(ref int counter)
    {
        Interlocked.Increment(ref counter);
        return ValueTask.CompletedTask;
    }
}
