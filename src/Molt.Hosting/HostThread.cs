namespace Molt.Hosting;

/// <summary>
/// Where the host's long synchronous work runs — loading a version, planning its transfer, checking it, compiling its code,
/// up to seconds: on a thread of its own. On the thread pool it would hold one of the threads the program's units run on
/// (two, on a 2-core machine), and the units' continuations would wait for the pool to grow, about half a second, while
/// the old version serves and while it parks for the update.
/// </summary>
internal static class HostThread
{
    private const TaskCreationOptions Dedicated = TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach;

    /// <summary>Runs <paramref name="work"/> on a thread of its own; its exception, if any, is the task's.</summary>
    public static Task Run(Action work) => Task.Factory.StartNew(work, CancellationToken.None, Dedicated, TaskScheduler.Default);

    /// <summary>Runs <paramref name="work"/> on a thread of its own; its exception, if any, is the task's.</summary>
    public static Task<T> Run<T>(Func<T> work) => Task.Factory.StartNew(work, CancellationToken.None, Dedicated, TaskScheduler.Default);
}
