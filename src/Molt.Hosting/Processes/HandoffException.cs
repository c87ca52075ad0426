namespace Molt.Hosting.Processes;

/// <summary>
/// The hand-off channel cannot go on, said in words: the peer closed it, a message was truncated or carried more
/// descriptors than allowed, a peer was not the process expected. Deadlines are <see cref="TimeoutException"/>s.
/// </summary>
internal sealed class HandoffException(string message, Exception? inner = null) : IOException(message, inner);
