package dev.runcible.core.lazy;

import dev.runcible.core.ContainerRuntimeException;
import dev.runcible.core.container.RunDirectory;
import dev.runcible.core.host.Executables;
import dev.runcible.core.host.ProcessIdentity;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Spare layer servers ({@code RUN/lazy/spare-PID-N}), which a resident launcher keeps so that a lazy layer is
 * served by a JVM that has loaded its plugins and reached its store already ({@link LazyLocalizer#keepSpare}).
 */
final class Spares {
    static final int WARM_UP_NICE = 19;
    private Spares() {
    }

    /** A spare server: its directory and process. */
    record Spare(Path directory, ProcessIdentity process) {
        boolean ready() {
            return Files.exists(directory.resolve(LazyLayers.READY)) && process.isAlive();
        }

        /**
         * Whether it serves a layer now: it was assigned one and did not answer {@link LazyLayerServer#UNINDEXED}
         * (it deletes {@code assign} before that answer, and its whole directory soon after any other).
         */
        boolean tookLayer() {
            return Files.exists(directory.resolve(LazyLayers.ASSIGN)) || !Files.isDirectory(directory);
        }
    }

    /**
     * Starts a spare server for launcher process {@code launcherPid}, loading the plugins of {@code warmUp}'s
     * settings and reaching the store of its layer; it is ready once it has written {@code ready}.
     */
    static Spare start(LazyLayers layers, LazyRequest warmUp, long launcherPid, int serial) throws IOException {
        RunDirectory.createPrivateDirectory(layers.directory());
        Path dir = RunDirectory.createPrivateDirectory(layers.directory().resolve(LazyLayers.SPARE_PREFIX
                + launcherPid + "-" + serial));
        warmUp.write(dir.resolve(LazyLayers.REQUEST));
        Files.setPosixFilePermissions(dir.resolve(LazyLayers.REQUEST), RunDirectory.PRIVATE_FILE);
        List<String> command = new ArrayList<>();
        // It starts while the launch that asked for it is starting its container, on the same cores: it warms up
        // at the lowest priority, and takes normal priority again once warm (waiting costs nothing).
        Executables.find("nice").ifPresent(nice -> command.addAll(List.of(nice.toString(), "-n",
                Integer.toString(WARM_UP_NICE))));
        command.addAll(ServerProcesses.command(LazyLayerServer.SPARE, dir.toString(), Long.toString(launcherPid)));
        Process process = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.appendTo(dir.resolve(LazyLayers.LOG_FILE).toFile()))
                .start();
        ProcessIdentity identity = ProcessIdentity.of(process.pid());
        Files.writeString(dir.resolve(LazyLayers.PID), identity.format());
        return new Spare(dir, identity);
    }

    /**
     * Hands the layer (its directory made, its request in it) to a ready spare and waits until it serves it; empty
     * when its store has no chunk list for it (the spare stays one, and the layer's directory goes).
     */
    static Optional<Path> assign(Path dir, LazyRequest request, Spare spare) throws IOException,
            ContainerRuntimeException {
        Files.writeString(dir.resolve(LazyLayers.PID), spare.process().format());
        RunDirectory.writeAtomically(spare.directory().resolve(LazyLayers.ASSIGN), dir.toString().getBytes(
                StandardCharsets.UTF_8));
        Path ready = dir.resolve(LazyLayers.READY);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(LazyLayers.START_SECONDS);
        while (!Files.exists(ready)) {
            if (!spare.process().isAlive() || System.nanoTime() > deadline) {
                ServerProcesses.signal(spare.process(), true);
                throw new ContainerRuntimeException("The spare server given lazy layer "
                        + request.layer().digest().shortHex() + " did not serve it (see " + spare.directory()
                        .resolve(LazyLayers.LOG_FILE) + ")");
            }
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ContainerRuntimeException("Interrupted while a spare server took a layer", e);
            }
        }
        String answer = Files.readString(ready).strip();
        if (answer.equals(LazyLayerServer.UNINDEXED)) {
            LazyLayers.remove(dir);
            return Optional.empty();
        }
        if (!answer.startsWith(LazyLayerServer.READY)) {
            throw new ContainerRuntimeException("The server of lazy layer " + request.layer().digest().shortHex()
                    + " did not start: " + answer + " (see " + dir.resolve(LazyLayers.LOG_FILE) + ")");
        }
        return Optional.of(Path.of(answer.substring(LazyLayerServer.READY.length())));
    }

    /** Ends a spare server and removes its directory. */
    static void stop(Spare spare) {
        ServerProcesses.signal(spare.process(), false);
        LazyLayers.remove(spare.directory());
    }
}
