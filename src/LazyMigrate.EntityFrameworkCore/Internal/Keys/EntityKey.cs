using System.Linq.Expressions;
using System.Reflection;

namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>
/// The key property of an entity type, from the user's key selector: reads it from an entity and builds the
/// predicates the stores query with. Values go into the queries as parameters, never as SQL text.
/// </summary>
internal sealed class EntityKey<TEntity, TKey>
    where TEntity : class
    where TKey : notnull
{
    private static readonly MethodInfo ContainsMethod = typeof(Enumerable)
        .GetMethods(BindingFlags.Public | BindingFlags.Static)
        .Single(m => m.Name == nameof(Enumerable.Contains) && m.GetParameters().Length == 2)
        .MakeGenericMethod(typeof(TKey));

    private readonly ParameterExpression _entity;
    private readonly MemberExpression _property;
    private readonly Func<TEntity, TKey> _read;

    public EntityKey(Expression<Func<TEntity, TKey>> selector)
    {
        ArgumentNullException.ThrowIfNull(selector);
        if (
            selector.Body is not MemberExpression { Member: PropertyInfo or FieldInfo } member
            || member.Expression != selector.Parameters[0]
        )
        {
            throw new ArgumentException(
                $"The key selector must read one property of {typeof(TEntity).Name}, as in 'e => e.Id'; "
                    + $"'{selector}' does not.",
                nameof(selector)
            );
        }

        _entity = selector.Parameters[0];
        _property = member;
        _read = selector.Compile();
        Selector = selector;
    }

    /// <summary>Gets the name of the key property.</summary>
    public string PropertyName => _property.Member.Name;

    /// <summary>Gets the key selector, for ordering.</summary>
    public Expression<Func<TEntity, TKey>> Selector { get; }

    public TKey Read(TEntity entity) => _read(entity);

    /// <summary><c>e =&gt; e.Key == key</c>.</summary>
    public Expression<Func<TEntity, bool>> EqualTo(TKey key) => Lambda(Compare(ExpressionType.Equal, Parameter(key)));

    /// <summary><c>e =&gt; keys.Contains(e.Key)</c>.</summary>
    public Expression<Func<TEntity, bool>> In(IReadOnlyCollection<TKey> keys) =>
        Lambda(Expression.Call(ContainsMethod, Parameter(keys.ToArray()), _property));

    /// <summary><c>e =&gt; e.Key &gt; key</c>, in the database's order of the key.</summary>
    public Expression<Func<TEntity, bool>> After(TKey key) =>
        Lambda(Compare(ExpressionType.GreaterThan, Parameter(key)));

    private Expression<Func<TEntity, bool>> Lambda(Expression body) =>
        Expression.Lambda<Func<TEntity, bool>>(body, _entity);

    /// <summary>
    /// A comparison with the key type's operator where it has one (numbers, <see cref="string"/> and <see cref="Guid"/>
    /// equality), otherwise through <c>Equals</c> / <c>CompareTo</c>, which EF Core translates to the same SQL
    /// operators.
    /// </summary>
    private Expression Compare(ExpressionType comparison, Expression value)
    {
        try
        {
            return Expression.MakeBinary(comparison, _property, value);
        }
        catch (InvalidOperationException)
        {
            return comparison == ExpressionType.Equal
                ? Expression.Call(_property, Method("Equals", "equality"), value)
                : Expression.GreaterThan(
                    Expression.Call(_property, Method("CompareTo", "order"), value),
                    Expression.Constant(0)
                );
        }
    }

    private static MethodInfo Method(string name, string purpose) =>
        typeof(TKey).GetMethod(name, [typeof(TKey)])
        ?? throw new InvalidOperationException(
            $"Key type {typeof(TKey).Name} has no operator nor {name}({typeof(TKey).Name}) method for its {purpose}."
        );

    /// <summary>
    /// A value EF Core sends as a query parameter: a field read on a constant, as a captured variable is.
    /// </summary>
    private static MemberExpression Parameter<T>(T value) =>
        Expression.Field(Expression.Constant(new Captured<T>(value)), nameof(Captured<T>.Value));

    private sealed class Captured<T>(T value)
    {
        public readonly T Value = value;
    }
}
