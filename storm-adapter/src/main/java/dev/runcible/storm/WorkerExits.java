package dev.runcible.storm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.runcible.client.AgentConnection;
import java.io.Closeable;
import java.io.IOException;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.storm.daemon.supervisor.ExitCodeCallback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Storm's exit callbacks, fed by the agent's event stream: a worker's callback gets its container's real exit code,
 * once. When the stream ends (the agent restarted) it is followed again from the time of the last event seen, so
 * an exit while it was down still arrives, once.
 */
final class WorkerExits implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(WorkerExits.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long RECONNECT_MILLIS = 1000;

    private final AgentConnection agent;
    private final Map<String, ExitCodeCallback> callbacks = new ConcurrentHashMap<>();
    private final ScheduledExecutorService reconnects = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "runcible-storm-events");
        thread.setDaemon(true);
        return thread;
    });
    private volatile String since;
    private volatile Closeable stream;
    private volatile boolean closed;
    /** Whether the last try to follow failed: only the first failure in a row is worth a warning. */
    private volatile boolean failing;

    WorkerExits(AgentConnection agent, Instant from) {
        this.agent = agent;
        this.since = from.toString();
    }

    /** Starts following; an agent not up yet is tried again every second. */
    void start() {
        reconnects.execute(this::follow);
    }

    /** Call {@code callback} with the exit code of the container named {@code container}, once. */
    void watch(String container, ExitCodeCallback callback) {
        callbacks.put(container, callback);
    }

    void forget(String container) {
        callbacks.remove(container);
    }

    private void follow() {
        if (closed) {
            return;
        }
        try {
            stream = agent.events(since, this::event, code -> {
                if (!closed) {
                    LOG.warn("The agent's event stream ended (code {}); following it again from {}", code, since);
                    reconnects.schedule(this::follow, RECONNECT_MILLIS, TimeUnit.MILLISECONDS);
                }
            });
            if (failing) {
                LOG.info("Following the agent's events at {} again, from {}", agent.socket(), since);
                failing = false;
            }
        } catch (IOException e) {
            if (!failing) {
                LOG.warn("Cannot follow the agent's events at {} ({}); trying every second", agent.socket(),
                        e.getMessage());
                failing = true;
            } else {
                LOG.debug("Still cannot follow the agent's events at {}: {}", agent.socket(), e.getMessage());
            }
            reconnects.schedule(this::follow, RECONNECT_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    private void event(String line) {
        JsonNode event;
        try {
            event = JSON.readTree(line);
        } catch (IOException e) {
            LOG.warn("Skipping an event line that is not JSON: {}", line);
            return;
        }
        String time = event.path("time").asText(null);
        if (time != null) {
            since = time;
        }
        if (!"exited".equals(event.path("type").asText())) {
            return;
        }
        ExitCodeCallback callback = callbacks.remove(event.path("name").asText());
        if (callback != null) {
            int code = event.path("exitCode").asInt(-1);
            LOG.info("Worker container {} exited with code {}", event.path("name").asText(), code);
            try {
                callback.call(code);
            } catch (RuntimeException e) {
                LOG.warn("The exit callback of {} failed", event.path("name").asText(), e);
            }
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        reconnects.shutdownNow();
        Closeable current = stream;
        if (current != null) {
            current.close();
        }
    }
}
