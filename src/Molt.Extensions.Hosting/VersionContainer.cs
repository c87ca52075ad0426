using System.Collections;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Molt.Extensions.Hosting;

/// <summary>
/// One version's service container and the application singletons it holds: the ones it made (<see cref="Singletons"/>,
/// the state that crosses the next update) and the ones it took over from the previous version.
/// </summary>
/// <remarks>
/// A container disposes the singletons it made when its version ends. An object that crossed an update belongs to the
/// other version then (its sockets, files and timers are passed by reference), so a container never disposes what it
/// carried over to a later version (retired) or took over from an earlier one (discarded after a rollback).
/// </remarks>
internal sealed class VersionContainer(HostedApplication version, Dictionary<string, object>? carried)
{
    private readonly object _lock = new();
    private readonly HashSet<string> _takenOver = [];
    private readonly Dictionary<string, int> _registrations = [];
    private ServiceProvider? _inner;
    private IReadOnlyCollection<object> _keep = [];

    /// <summary>The application's singletons by registration: the previous version's carried over, then those made here.</summary>
    public Dictionary<string, object> Singletons { get; } = carried ?? [];

    public CarryingServiceProvider Provider { get; private set; } = null!;

    public void Build(IServiceCollection services, ServiceProviderOptions options)
    {
        _inner = services.BuildServiceProvider(options);
        Provider = new CarryingServiceProvider(_inner, this);
    }

    /// <summary>
    /// A registration of the application's singleton, made to hand out the object carried over under its key or to
    /// remember the one it makes.
    /// </summary>
    public ServiceDescriptor Rewrite(ServiceDescriptor descriptor)
    {
        if (descriptor.Lifetime != ServiceLifetime.Singleton || descriptor.ServiceType.ContainsGenericParameters)
        {
            return descriptor; // Scoped and transient services are never state; an open generic has no object of its own.
        }
        var keyed = descriptor.IsKeyedService;
        var type = keyed ? descriptor.KeyedImplementationType : descriptor.ImplementationType;
        var instance = keyed ? descriptor.KeyedImplementationInstance : descriptor.ImplementationInstance;
        var made = type ?? instance?.GetType();
        // A hosted service registered by a factory (AddHostedService(sp => ...)) is known to be the application's once made.
        var isHosted = descriptor.ServiceType == typeof(IHostedService) && !keyed;
        if (!version.IsProgramType(descriptor.ServiceType) && !(made is not null && version.IsProgramType(made)) && !(made is null && isHosted))
        {
            return descriptor; // The framework's: each version's container makes its own.
        }
        var key = KeyOf(descriptor, made);
        Func<IServiceProvider, object?, object> make = type is not null ? (sp, _) => ActivatorUtilities.CreateInstance(sp, type)
            : instance is not null ? (_, _) => instance
            : keyed ? (sp, k) => descriptor.KeyedImplementationFactory!(sp, k)
            : (sp, _) => descriptor.ImplementationFactory!(sp);
        if (instance is not null && !Singletons.ContainsKey(key))
        {
            Singletons[key] = instance; // Made by the application itself: state from the start.
        }
        Func<IServiceProvider, object?, object> resolve = (sp, k) => Realize(key, sp, k, make);
        return keyed
            ? ServiceDescriptor.KeyedSingleton(descriptor.ServiceType, descriptor.ServiceKey, (sp, k) => resolve(sp, k))
            : ServiceDescriptor.Singleton(descriptor.ServiceType, sp => resolve(sp, null));
    }

    /// <summary>"Service [key] = Implementation", numbered when an application registers the same twice.</summary>
    private string KeyOf(ServiceDescriptor descriptor, Type? made)
    {
        var key = $"{descriptor.ServiceType.FullName}{(descriptor.IsKeyedService ? $" [{descriptor.ServiceKey}]" : "")} = {made?.FullName ?? "(factory)"}";
        var n = _registrations[key] = _registrations.GetValueOrDefault(key) + 1;
        return n == 1 ? key : $"{key} #{n}";
    }

    private object Realize(string key, IServiceProvider services, object? serviceKey, Func<IServiceProvider, object?, object> make)
    {
        lock (_lock)
        {
            if (carried is not null && carried.TryGetValue(key, out var previous) && _takenOver.Add(key))
            {
                FillFrameworkFields(previous, services);
                return previous;
            }
        }
        var made = make(services, serviceKey);
        if (version.IsProgramType(made.GetType()))
        {
            lock (_lock)
            {
                Singletons[key] = made;
            }
        }
        return made;
    }

    /// <summary>
    /// The fields of a carried-over singleton that hold the framework's services were left out of the transfer: they get
    /// this container's, through the constructor parameter they were stored from (ILogger&lt;T&gt; into an ILogger field),
    /// else by their own type.
    /// </summary>
    private void FillFrameworkFields(object target, IServiceProvider services)
    {
        var type = target.GetType();
        var parameters = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault()?.GetParameters() ?? [];
        for (var level = type; level is not null && version.IsProgramType(level); level = level.BaseType)
        {
            foreach (var field in level.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (!FrameworkServices.IsService(field.FieldType))
                {
                    continue;
                }
                var fitting = parameters.Where(p => field.FieldType.IsAssignableFrom(p.ParameterType)).ToList();
                var parameter = fitting.Count == 1 ? fitting[0]
                    : fitting.FirstOrDefault(p => string.Equals(p.Name, field.Name.TrimStart('_'), StringComparison.OrdinalIgnoreCase));
                field.SetValue(target, parameter is not null ? Resolve(services, parameter) : services.GetService(field.FieldType));
            }
        }
    }

    private static object? Resolve(IServiceProvider services, ParameterInfo parameter) =>
        parameter.GetCustomAttribute<FromKeyedServicesAttribute>() is { } keyed && services is IKeyedServiceProvider keyedServices
            ? keyedServices.GetKeyedService(parameter.ParameterType, keyed.Key)
            : services.GetService(parameter.ParameterType);

    /// <summary>Before the container is disposed: what crossed to or from another version is left out of its disposal.</summary>
    public void KeepCarried(bool carriedOut)
    {
        lock (_lock)
        {
            _keep = carriedOut
                ? [.. Singletons.Values]
                : [.. _takenOver.Select(k => carried![k])];
        }
    }

    private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the version's host has disposed the container.</summary>
    public Task Disposed => _disposed.Task;

    /// <summary>Disposes the container but for what <see cref="KeepCarried"/> kept.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _inner, null) is not { } inner)
        {
            return;
        }
        try
        {
            if (_keep.Count > 0 && !ForgetDisposables(inner, _keep))
            {
                return; // Leaking the container is better than closing the other version's sockets and files.
            }
            await inner.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _disposed.TrySetResult();
        }
    }

    /// <summary>
    /// Takes objects out of the list of what the container will dispose. The list is private to
    /// Microsoft.Extensions.DependencyInjection (its root scope's <c>_disposables</c>), found by name: if a later .NET
    /// renames it, the container is not disposed at all rather than disposing what another version uses.
    /// </summary>
    private static bool ForgetDisposables(ServiceProvider provider, IReadOnlyCollection<object> keep)
    {
        var root = typeof(ServiceProvider).GetProperty("Root", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(provider);
        if (root?.GetType().GetField("_disposables", BindingFlags.Instance | BindingFlags.NonPublic) is not { } field)
        {
            return false;
        }
        if (field.GetValue(root) is not IList disposables)
        {
            return true; // Nothing was made that is disposable.
        }
        var kept = keep.ToHashSet(ReferenceEqualityComparer.Instance);
        lock (root)
        {
            for (var i = disposables.Count - 1; i >= 0; i--)
            {
                if (disposables[i] is { } item && kept.Contains(item))
                {
                    disposables.RemoveAt(i);
                }
            }
        }
        return true;
    }
}
