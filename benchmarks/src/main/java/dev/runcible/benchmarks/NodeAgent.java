package dev.runcible.benchmarks;

import dev.runcible.client.AgentProtocol;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A node agent ({@code bin/runcible agent}) for the length of a benchmark, on a socket of its own. */
final class NodeAgent implements AutoCloseable {
    private final Process process;
    private final Path socket;

    private NodeAgent(Process process, Path socket) {
        this.process = process;
        this.socket = socket;
    }

    /** Starts the agent and waits until it answers on {@code socket}. Needs root. */
    static NodeAgent start(Path home, Path socket, Path log) throws IOException, InterruptedException {
        return start(home, List.of(), socket, log);
    }

    /** As {@link #start(Path, Path, Path)}, the agent serving with the configuration file {@code config}. */
    static NodeAgent start(Path home, Path config, Path socket, Path log) throws IOException, InterruptedException {
        return start(home, List.of("--config", config.toString()), socket, log);
    }

    private static NodeAgent start(Path home, List<String> options, Path socket, Path log)
            throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of(home.resolve("bin/runcible").toString()));
        command.addAll(options);
        command.addAll(List.of("agent", "--socket", socket.toString()));
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        for (long deadline = System.currentTimeMillis() + 30_000; !Files.exists(socket); Thread.sleep(20)) {
            if (System.currentTimeMillis() > deadline || !process.isAlive()) {
                process.destroy();
                throw new IllegalStateException("The agent did not start; see " + log);
            }
        }
        return new NodeAgent(process, socket);
    }

    /** The environment that sends bin/runcible's commands to this agent. */
    Map<String, String> environment() {
        return Map.of(AgentProtocol.SOCKET_ENV, socket.toString());
    }

    /** An environment in which bin/runcible finds no agent (a node may run one at the default socket). */
    static Map<String, String> none(Path work) {
        return Map.of(AgentProtocol.SOCKET_ENV, work.resolve("no-agent.sock").toString());
    }

    /** The agent's peak resident memory so far, in KiB (VmHWM), or 0 if unreadable. */
    long peakKb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // reported as 0
        }
        return 0;
    }

    /** Runs {@code command} through this agent {@code count} times, so its hot paths are compiled. */
    void warmUp(List<String> command, int count, Path log) throws IOException, InterruptedException {
        for (int i = 0; i < count; i++) {
            Measure.seconds(command, environment(), log);
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
