using System.Linq.Expressions;
using System.Reflection;
using Microsoft.EntityFrameworkCore;

namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>
/// The key property of an entity type, by name: a CLR property or a shadow property of the model alike. Every query
/// reads it as <c>EF.Property&lt;TKey&gt;(e, name)</c>, so one code path serves both kinds of key. Values go into the
/// queries as parameters, never as SQL text.
/// </summary>
internal sealed class EntityKey<TEntity, TKey>
    where TEntity : class
    where TKey : notnull
{
    private static readonly MethodInfo PropertyMethod = typeof(EF)
        .GetMethod(nameof(EF.Property))!
        .MakeGenericMethod(typeof(TKey));

    private static readonly MethodInfo ContainsMethod = typeof(Enumerable)
        .GetMethods(BindingFlags.Public | BindingFlags.Static)
        .Single(m => m.Name == nameof(Enumerable.Contains) && m.GetParameters().Length == 2)
        .MakeGenericMethod(typeof(TKey));

    private readonly ParameterExpression _entity = Expression.Parameter(typeof(TEntity), "e");
    private readonly MethodCallExpression _property;

    public EntityKey(string propertyName)
    {
        PropertyName = propertyName;
        _property = Expression.Call(PropertyMethod, _entity, Expression.Constant(propertyName));
        Selector = Expression.Lambda<Func<TEntity, TKey>>(_property, _entity);
        WithKey = Expression.Lambda<Func<TEntity, Keyed<TEntity, TKey>>>(
            Expression.MemberInit(
                Expression.New(typeof(Keyed<TEntity, TKey>)),
                Expression.Bind(typeof(Keyed<TEntity, TKey>).GetProperty(nameof(Keyed<TEntity, TKey>.Key))!, _property),
                Expression.Bind(typeof(Keyed<TEntity, TKey>).GetProperty(nameof(Keyed<TEntity, TKey>.Entity))!, _entity)
            ),
            _entity
        );
    }

    /// <summary>Gets the name of the key property.</summary>
    public string PropertyName { get; }

    /// <summary>Gets <c>e =&gt; EF.Property&lt;TKey&gt;(e, name)</c>, for ordering and projecting keys.</summary>
    public Expression<Func<TEntity, TKey>> Selector { get; }

    /// <summary>Gets the projection of an entity with its key, for the reads that need ids.</summary>
    public Expression<Func<TEntity, Keyed<TEntity, TKey>>> WithKey { get; }

    /// <summary>
    /// The name of the property a key selector reads: <c>e =&gt; e.Id</c>, or <c>e =&gt; EF.Property&lt;TKey&gt;(e,
    /// "Id")</c> for a shadow key.
    /// </summary>
    /// <exception cref="ArgumentException">The selector reads anything else.</exception>
    public static string NameOf(Expression<Func<TEntity, TKey>> selector)
    {
        ArgumentNullException.ThrowIfNull(selector);
        Expression body = selector.Body;
        if (body is MemberExpression { Member: PropertyInfo or FieldInfo } member && Reads(member.Expression, selector))
        {
            return member.Member.Name;
        }

        if (
            body is MethodCallExpression { Method.IsGenericMethod: true } call
            && call.Method.GetGenericMethodDefinition() == PropertyMethod.GetGenericMethodDefinition()
            && Reads(call.Arguments[0], selector)
            && call.Arguments[1] is ConstantExpression { Value: string name }
        )
        {
            return name;
        }

        throw new ArgumentException(
            $"The key selector must read one property of {typeof(TEntity).Name}, as in 'e => e.Id' "
                + $"or 'e => EF.Property<{typeof(TKey).Name}>(e, \"Id\")'; '{selector}' does not.",
            nameof(selector)
        );
    }

    /// <summary><c>e =&gt; e.Key == key</c>.</summary>
    public Expression<Func<TEntity, bool>> EqualTo(TKey key) => Lambda(Compare(ExpressionType.Equal, Parameter(key)));

    /// <summary><c>e =&gt; keys.Contains(e.Key)</c>.</summary>
    public Expression<Func<TEntity, bool>> In(IReadOnlyCollection<TKey> keys) =>
        Lambda(Expression.Call(ContainsMethod, Parameter(keys.ToArray()), _property));

    /// <summary><c>e =&gt; e.Key &gt; key</c>, in the database's order of the key.</summary>
    public Expression<Func<TEntity, bool>> After(TKey key) =>
        Lambda(Compare(ExpressionType.GreaterThan, Parameter(key)));

    private static bool Reads(Expression? expression, Expression<Func<TEntity, TKey>> selector) =>
        (expression is UnaryExpression { NodeType: ExpressionType.Convert } convert ? convert.Operand : expression)
        == selector.Parameters[0];

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
