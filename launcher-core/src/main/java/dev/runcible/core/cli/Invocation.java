package dev.runcible.core.cli;

import dev.runcible.api.RuncibleException;
import dev.runcible.core.Runcible;
import dev.runcible.core.config.Settings;
import dev.runcible.core.container.Caller;
import dev.runcible.core.container.ContainerManager;
import dev.runcible.core.plugin.PluginLoader;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * What one command line runs against: the environment it was given, where its output goes, how it opens the
 * launcher, and how signals to a foreground {@code run} reach the container. A plain CLI process uses its own
 * streams and signals; the node agent uses those of the client that sent the command line.
 *
 * @param environment the command line's environment: {@code RUNCIBLE_CONFIG}, {@code RUNCIBLE_PLUGIN_PATH} and
 *     the values {@code run -e NAME} passes on
 * @param terminal whether {@code err} is a terminal, for progress drawn in place
 * @param configEnvironment what {@code ${ENV:NAME}} in the configuration reads: the process's own environment
 *     (under the agent, the agent's: its client sends only what the command needs)
 * @param caller who runs the command line: root, or a peer of the agent that acts on its own containers only
 * @param cancelled whether whoever gave the command line has gone (a client that closed its connection)
 */
record Invocation(Map<String, String> environment, PrintStream out, PrintStream err, boolean terminal,
        Opener opener, Signals signals, Map<String, String> configEnvironment, Caller caller,
        BooleanSupplier cancelled) {

    /** Opens the launcher for settings and a plugin path ({@code RUNCIBLE_PLUGIN_PATH}, may be null). */
    interface Opener {
        Runcible open(Settings settings, String pluginPath) throws RuncibleException;
    }

    /** Routes INT, TERM and HUP meant for a foreground {@code run} to its container. */
    interface Signals {
        void forward(ContainerManager containers, String id);
    }

    /** This process: its streams, its signals, and a launcher opened for the one command. */
    static Invocation local(Map<String, String> environment) {
        return new Invocation(environment, System.out, System.err, System.console() != null,
                Invocation::openFresh, SignalForwarding::install, environment, Caller.ROOT, () -> false);
    }

    static Runcible openFresh(Settings settings, String pluginPath) throws RuncibleException {
        String home = System.getProperty("runcible.home");
        ClassLoader loader = PluginLoader.create(home == null ? null : Path.of(home, "plugins"), pluginPath);
        return Runcible.open(settings, loader);
    }
}
