using System.Reflection;
using System.Runtime.Loader;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Molt.Extensions.Hosting;

/// <summary>
/// One version of a hosted application under Molt: its container's singletons (its state), its request pipeline, its
/// units, and its end — retired after a later version commits, or discarded when the update that started it rolls back.
/// </summary>
internal sealed class HostedApplication
{
    /// <summary>The unit whose state is the application's singletons (what an update carries); it stops the program at its stop.</summary>
    public const string ServicesUnit = "services";

    /// <summary>The listening sockets are carried with the singletons (to a process update's new process) under this key and their index.</summary>
    public const string ListenerKey = "molt:listener:";

    /// <summary>The unit that lets requests into this version, and holds them back during an update.</summary>
    public const string RequestsUnit = "requests";

    private HostedApplication(HostedProgram program, LiveScope startUp, Assembly application)
    {
        Program = program;
        StartUp = startUp;
        Epoch = startUp.Epoch;
        Context = AssemblyLoadContext.GetLoadContext(application) ?? AssemblyLoadContext.Default;
        // Requests and connection units run as this version's code, not as its start-up.
        Scope = new LiveScope(program.Session, unit: null, isStartingUpdate: false, startUp.Epoch);
        Server = new CaptureServer(this);
    }

    public HostedProgram Program { get; }

    /// <summary>The start-up scope of this version's Main (an update's, or the first start).</summary>
    public LiveScope StartUp { get; }

    public int Epoch { get; }

    public bool IsUpdate => StartUp.IsStartingUpdate;

    /// <summary>The application's context: its types are the program's.</summary>
    public AssemblyLoadContext Context { get; }

    /// <summary>The scope of this version's requests.</summary>
    public LiveScope Scope { get; }

    /// <summary>Stands in for Kestrel in this version's container.</summary>
    public CaptureServer Server { get; }

    /// <summary>The version's request pipeline, once its host has started the (captured) server.</summary>
    public VersionPipeline? Pipeline { get; set; }

    /// <summary>The version's container, once built.</summary>
    public VersionContainer? Container { get; set; }

    public IHostApplicationLifetime? Lifetime { get; set; }

    private readonly Dictionary<IHostedService, ServiceControl> _controls = new(ReferenceEqualityComparer.Instance);

    /// <summary>Whether one of the application's hosted services runs.</summary>
    public ServiceControl Control(IHostedService service)
    {
        lock (_controls)
        {
            return _controls.TryGetValue(service, out var control) ? control : _controls[service] = new ServiceControl(service);
        }
    }

    /// <summary>
    /// The program stops (from the running version): requests still waiting get 503, those in flight finish, Kestrel
    /// closes, and this version's host stops its services and disposes its container.
    /// </summary>
    public async Task StopProgramAsync()
    {
        await Program.Server.StopAsync().ConfigureAwait(false);
        if (Lifetime is { } lifetime)
        {
            var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var registration = lifetime.ApplicationStopped.Register(() => stopped.TrySetResult());
            lifetime.StopApplication();
            await stopped.Task.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }
    }

    public static void Attach(IHostApplicationBuilder builder, Assembly application)
    {
        if (Create(application) is not { } version)
        {
            return;
        }
        version.Register(builder.Services);
        builder.ConfigureContainer(new VersionContainerFactory(version, builder.Environment.IsDevelopment()));
    }

    public static void Attach(IHostBuilder builder, Assembly application)
    {
        if (Create(application) is not { } version)
        {
            return;
        }
        builder.ConfigureServices((_, services) => version.Register(services));
        builder.UseServiceProviderFactory(context => new VersionContainerFactory(version, context.HostingEnvironment.IsDevelopment()));
    }

    /// <summary>This start's version, or null standalone (the application runs as it would without Molt) or when it has one already.</summary>
    private static HostedApplication? Create(Assembly application)
    {
        if (Live.CurrentScope.Value is not { Session.IsHosted: true, Unit: null } startUp)
        {
            return null;
        }
        var program = HostedProgram.For(startUp.Session);
        var version = new HostedApplication(program, startUp, application);
        return program.Add(version) ? version : null;
    }

    private void Register(IServiceCollection services)
    {
        // Molt owns the process's lifetime (signals, exit): each version's host only runs while its version serves.
        services.AddSingleton<IHostLifetime>(new MoltHostLifetime());
        // Kestrel outlives the versions: each version's pipeline is handed to it through a stand-in server.
        services.AddSingleton<IServer>(Server);
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService>(sp => new StartUpSignal(this, sp.GetRequiredService<IHostApplicationLifetime>())));
    }

    /// <summary>
    /// Whether a type is declared by the application (its assemblies). A framework type over the application's types
    /// (<c>IOptions&lt;Settings&gt;</c>, <c>ILogger&lt;Store&gt;</c>) is the framework's: each version's container makes its own.
    /// </summary>
    /// <remarks>
    /// The application's own libraries may load in contexts of their own (Molt shares a library between the versions that ship the
    /// same build of it): a type of one of them is the application's as much as a type of its main assembly.
    /// </remarks>
    public bool IsProgramType(Type type) =>
        Context != AssemblyLoadContext.Default && AssemblyLoadContext.GetLoadContext(type.Assembly) is { } context
        && (context == Context || ProgramContexts.Contains(context));

    /// <summary>The contexts of the application's libraries that are not its version's: those its assemblies reference, transitively, but the default one.</summary>
    private HashSet<AssemblyLoadContext> ProgramContexts => _programContexts ??= FindProgramContexts();

    private HashSet<AssemblyLoadContext>? _programContexts;

    private HashSet<AssemblyLoadContext> FindProgramContexts()
    {
        var contexts = new HashSet<AssemblyLoadContext>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var work = new Queue<Assembly>(Context.Assemblies);
        while (work.TryDequeue(out var assembly))
        {
            foreach (var reference in assembly.GetReferencedAssemblies())
            {
                if (reference.Name is null || !seen.Add(reference.Name))
                {
                    continue;
                }
                Assembly loaded;
                try
                {
                    loaded = Context.LoadFromAssemblyName(reference);
                }
                catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException)
                {
                    continue;
                }
                if (AssemblyLoadContext.GetLoadContext(loaded) is { } context && context != AssemblyLoadContext.Default && context != Context)
                {
                    contexts.Add(context);
                    work.Enqueue(loaded);
                }
            }
        }
        return contexts;
    }

    /// <summary>Called once the version's host has started: its units start, and its start-up is done.</summary>
    public void Started()
    {
        if (Container is null)
        {
            throw new InvalidOperationException(
                "Molt builds a hosted application's service container itself (to carry its singletons across updates): " +
                "the application replaced it (ConfigureContainer, UseServiceProviderFactory). Remove that call, or call AddMolt() after it.");
        }
        if (Container.Provider.GetService<IServer>() is { } server && server != Server)
        {
            throw new InvalidOperationException(
                $"The application registers its own server ({server.GetType().Name}) after AddMolt(): Molt's Kestrel, which outlives the versions, " +
                "must serve it. Call builder.AddMolt() after UseKestrel/ConfigureKestrel and any other server registration.");
        }
        var session = Program.Session;
        for (var i = 0; i < Program.Server.Listeners.Count; i++)
        {
            Container.Singletons[$"{ListenerKey}{i:D3}"] = Program.Server.Listeners[i];
        }
        session.TakeMigratingUnit(ServicesUnit); // Taken by the container; one that was not built from it has none.
        session.StartUnit(ServicesUnit, Container.Singletons, UnitEntry.ForTask(((Func<Dictionary<string, object>, Task>)HostedUnits.RunServicesAsync).Method), StartUp);
        if (Pipeline is not null)
        {
            session.TakeMigratingUnit(RequestsUnit);
            session.StartUnit(RequestsUnit, RequestsUnit, UnitEntry.ForTask(((Func<string, Task>)HostedUnits.RunRequestsAsync).Method), StartUp);
        }
        var service = UnitEntry.ForTask(((Func<IHostedService, Task>)HostedUnits.RunServiceAsync).Method);
        foreach (var hosted in Container.Provider.GetServices<IHostedService>().Where(s => IsProgramType(s.GetType())).Distinct())
        {
            // Its state is the service itself, which the container carried over already.
            var name = $"service:{hosted.GetType().FullName}";
            session.TakeMigratingUnit(name);
            session.StartUnit(name, hosted, service, StartUp);
        }
        StartUp.StartedUp.TrySetResult();
    }

    /// <summary>
    /// This version stops running: after a later version committed (<paramref name="carriedOut"/>: what it carried over is
    /// the new version's now), or after the update that started it rolled back (what it took over is the old version's
    /// again). Its host stops and disposes its container — but not what crossed — and framework caches let go of its types.
    /// </summary>
    public async Task EndAsync(bool carriedOut)
    {
        Container?.KeepCarried(carriedOut);
        Server.Detach();
        Pipeline = null;
        if (Lifetime is { } lifetime)
        {
            Lifetime = null;
            var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (lifetime.ApplicationStopped.Register(() => stopped.TrySetResult()))
            {
                lifetime.StopApplication();
                await stopped.Task.WaitAsync(EndWait).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            if (Container is { } container)
            {
                // The host disposes its container once it has stopped (Run's end).
                await container.Disposed.WaitAsync(EndWait).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
        else if (Container is { } unstarted)
        {
            // Its Main failed between Build() and the host's start: no host will dispose what it built.
            await unstarted.DisposeAsync().ConfigureAwait(false);
        }
        Container = null;
        FrameworkCaches.Forget();
    }

    private static readonly TimeSpan EndWait = TimeSpan.FromSeconds(10);
}
