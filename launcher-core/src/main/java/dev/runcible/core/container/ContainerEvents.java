package dev.runcible.core.container;

import dev.runcible.core.container.EventLog.Event;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exit futures and event listeners of one launcher, served by a single thread that follows the run directory's
 * event log: no thread and no polling per container.
 */
final class ContainerEvents implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerEvents.class);

    private final EventLog log;
    private final Map<String, CompletableFuture<Integer>> exits = new ConcurrentHashMap<>();
    private final List<Consumer<Event>> listeners = new CopyOnWriteArrayList<>();
    private Thread follower;
    private volatile boolean closed;

    ContainerEvents(EventLog log) {
        this.log = log;
    }

    /**
     * Completes with the container's exit code. The future is registered before the state is read, and the
     * follower reads from a position taken before either: an exit is seen by one or the other, never missed.
     */
    CompletableFuture<Integer> onExit(String id, Supplier<OptionalInt> recorded) {
        start();
        CompletableFuture<Integer> future = exits.computeIfAbsent(id, key -> new CompletableFuture<>());
        OptionalInt code = recorded.get();
        if (code.isPresent()) {
            exits.remove(id, future);
            future.complete(code.getAsInt());
        }
        return future;
    }

    /** Calls the listener with every event from now on, from the follower's thread, until the handle is closed. */
    AutoCloseable subscribe(Consumer<Event> listener) {
        start();
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    private synchronized void start() {
        if (follower != null || closed) {
            return;
        }
        long position = log.end();
        follower = new Thread(() -> {
            try {
                log.follow(position, Optional.empty(), event -> true, this::dispatch, () -> closed);
            } catch (IOException e) {
                LOG.warn("Cannot follow {}: {}", log.file(), e.getMessage());
            }
        }, "runcible-events");
        follower.setDaemon(true);
        follower.start();
    }

    private void dispatch(Event event) {
        if (event.type().equals("exited") && event.exitCode().isPresent()) {
            CompletableFuture<Integer> future = exits.remove(event.id());
            if (future != null) {
                future.complete(event.exitCode().getAsInt());
            }
        }
        for (Consumer<Event> listener : listeners) {
            try {
                listener.accept(event);
            } catch (RuntimeException e) {
                LOG.warn("An event listener failed on {}", event, e);
            }
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (follower != null) {
            follower.interrupt();
        }
    }
}
