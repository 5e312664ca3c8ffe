using System.Text;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>The checked, quoted names a forward sync trigger's DDL is made of.</summary>
internal sealed class TriggerTarget
{
    /// <summary>The longest migration name an outbox row holds.</summary>
    private const int MaxMigrationLength = 200;

    private const string OrderSuffix = "_order";

    private const string NewRowSuffix = "_new";

    private TriggerTarget(PostgreSqlForwardSyncTriggerOptions options)
    {
        Legacy = DocumentTableName.Of(options.LegacySchema, options.LegacyTable);
        Outbox = DocumentTableName.Of(options.OutboxSchema, options.OutboxTable);
        Captures = PostgreSqlOutboxSchema.CapturesOf(Outbox);
        NewStore = string.IsNullOrEmpty(options.NewStoreTable)
            ? null
            : DocumentTableName.Of(options.NewStoreSchema, options.NewStoreTable);
        Key = PostgreSqlIdentifier.Quote(options.KeyColumn, "key column");
        Trigger = PostgreSqlIdentifier.Quote(options.TriggerName, "trigger");
        Function = FunctionName(options, "");
        OrderTrigger = TriggerName(options, OrderSuffix);
        OrderFunction = FunctionName(options, OrderSuffix);
        InsertTrigger = TriggerName(options, "_insert");
        RekeyTrigger = TriggerName(options, "_rekey");
        NewRowFunction = FunctionName(options, NewRowSuffix);
        MigrationLiteral = Literal(options.Migration);
        Migration = options.Migration;
        if (options.CompiledCapture)
        {
            if (NewStore is not null)
            {
                throw new ArgumentException(
                    "The compiled capture does not mark the new store's rows stale: set CompiledCapture or "
                        + "NewStoreTable, not both.",
                    nameof(options)
                );
            }

            CompiledFunction = FunctionName(options, CompiledSuffix);
            KeyName = options.KeyColumn;
        }
    }

    /// <summary>The server module and symbol of the compiled capture function (extensions/lazymigrate_capture).
    /// </summary>
    public const string CompiledSymbol = "lazymigrate_capture";

    private const string CompiledSuffix = "_compiled";

    public DocumentTableName Legacy { get; }

    public DocumentTableName Outbox { get; }

    /// <summary>Gets the outbox's captures table, which the trigger appends to.</summary>
    public DocumentTableName Captures { get; }

    /// <summary>Gets the new store's table the trigger marks stale, or <see langword="null"/> for none.</summary>
    public DocumentTableName? NewStore { get; }

    public string Key { get; }

    public string Trigger { get; }

    /// <summary>
    /// Gets the function that captures the key a row had (an update's or a delete's): one per legacy table and
    /// trigger, in the table's schema. <see cref="Trigger"/> calls it.
    /// </summary>
    public string Function { get; }

    /// <summary>Gets the trigger that captures an inserted row's key.</summary>
    public string InsertTrigger { get; }

    /// <summary>Gets the trigger that captures the new key of a row an update re-keyed.</summary>
    public string RekeyTrigger { get; }

    /// <summary>Gets the function that captures the key a row has now, for <see cref="InsertTrigger"/> and <see
    /// cref="RekeyTrigger"/>.</summary>
    public string NewRowFunction { get; }

    /// <summary>
    /// Gets the trigger of earlier versions that checked a write-back's rows before they were written: the script
    /// drops it.
    /// </summary>
    public string OrderTrigger { get; }

    /// <summary>
    /// Gets the function that fails a write-back a later old-API write supersedes, which the capture functions call
    /// (in earlier versions, without parameters, the function of <see cref="OrderTrigger"/>).
    /// </summary>
    public string OrderFunction { get; }

    /// <summary>Gets the migration name (checked by <see cref="MigrationLiteral"/>).</summary>
    public string Migration { get; }

    /// <summary>Gets the migration name as an SQL string literal, the trigger's argument.</summary>
    public string MigrationLiteral { get; }

    /// <summary>
    /// Gets the compiled capture function the triggers call, a <c>LANGUAGE c</c> function over
    /// <see cref="CompiledSymbol"/>, or <see langword="null"/> where they call the PL/pgSQL functions.
    /// </summary>
    public string? CompiledFunction { get; }

    /// <summary>Gets the key column's name unquoted (checked by <see cref="Key"/>), for the compiled capture.</summary>
    public string? KeyName { get; }

    /// <summary>A function of the trigger, in the legacy table's schema: the table's name and the trigger's, cut to
    /// fit.</summary>
    private string FunctionName(PostgreSqlForwardSyncTriggerOptions options, string suffix) =>
        $"{PostgreSqlIdentifier.Quote(Legacy.Schema, "schema")}."
        + PostgreSqlIdentifier.Quote(
            PostgreSqlOutboxSchema.NameOf(
                Legacy,
                "_" + options.TriggerName[..Math.Min(options.TriggerName.Length, 40)] + suffix
            ),
            "function"
        );

    /// <summary>A trigger beside the main one: its name and a suffix, cut to fit.</summary>
    private static string TriggerName(PostgreSqlForwardSyncTriggerOptions options, string suffix) =>
        PostgreSqlIdentifier.Quote(
            PostgreSqlOutboxSchema.NameOf(DocumentTableName.Of("public", options.TriggerName), suffix),
            "trigger"
        );

    /// <exception cref="ArgumentException">A name is invalid, or the migration name empty or too long.</exception>
    public static TriggerTarget Of(PostgreSqlForwardSyncTriggerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new TriggerTarget(options);
    }

    /// <summary>
    /// An escape-string literal (<c>E'...'</c>), read the same whatever <c>standard_conforming_strings</c> says: quotes
    /// and backslashes doubled. The name is the trigger's argument, outside the function's dollar-quoted body.
    /// </summary>
    private static string Literal(string migration)
    {
        if (string.IsNullOrEmpty(migration) || migration.Length > MaxMigrationLength || migration.Contains('\0'))
        {
            throw new ArgumentException(
                $"The migration name must be 1 to {MaxMigrationLength} characters, without NUL, not '{migration}'.",
                nameof(migration)
            );
        }

        return Quoted(migration);
    }

    /// <summary>Text without NUL as an escape-string literal (see <see cref="Literal"/>).</summary>
    public static string Quoted(string text)
    {
        var literal = new StringBuilder("E'", text.Length + 3);
        foreach (char c in text)
        {
            literal.Append(c is '\'' or '\\' ? new string(c, 2) : c.ToString());
        }

        return literal.Append('\'').ToString();
    }
}
