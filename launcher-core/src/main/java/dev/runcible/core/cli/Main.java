package dev.runcible.core.cli;

import dev.runcible.api.RuncibleException;
import dev.runcible.core.ContainerRuntimeException;
import dev.runcible.core.Runcible;
import dev.runcible.client.AgentProtocol;
import dev.runcible.core.config.Settings;
import dev.runcible.core.container.ContainerManager;
import dev.runcible.core.plugin.PluginLoader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code runcible} command line. Errors print as one line; exit codes follow docker (125 = launcher error). */
@Command(name = "runcible", mixinStandardHelpOptions = true, version = "runcible 0.1.0",
        description = "Launches OCI containers with runc from squashfs image layers.")
public final class Main {
    public static final int LAUNCHER_ERROR = 125;
    /**
     * The subcommands, by the names their {@code @Command} gives. A command line names one, and picocli builds the
     * model (by reflection over its annotations) of that one only: building all of them took a plain CLI's
     * {@code run} longer than the launch itself. Help, and a name that is none of these, get them all.
     */
    static final Map<String, Class<?>> COMMANDS = commands(RunCommand.class, PsCommand.class, KillCommand.class,
            RmCommand.class, WaitCommand.class, LogsCommand.class, ExecCommand.class, EventsCommand.class,
            ImagesCommand.class, PullCommand.class, ImportCommand.class, TagCommand.class, UntagCommand.class,
            GcCommand.class, StatsCommand.class, DoctorCommand.class, AgentCommand.class, StoreCommand.class);
    public static final String CONFIG_ENV = "RUNCIBLE_CONFIG";

    @Option(names = "--config", paramLabel = "FILE",
            description = "Configuration properties (default: $RUNCIBLE_CONFIG, then built-in defaults).")
    Path config;

    @Option(names = "--debug", description = "Log debug messages and print stack traces.")
    boolean debug;

    private final Invocation invocation;

    public Main(Map<String, String> environment) {
        this(Invocation.local(environment));
    }

    Main(Invocation invocation) {
        this.invocation = invocation;
    }

    public static void main(String[] args) {
        for (String arg : args) {
            if (arg.equals("--debug")) {
                System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "debug");
            }
            if (arg.equals("--")) {
                break;
            }
        }
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel",
                System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"));
        System.setProperty("org.slf4j.simpleLogger.showThreadName", "false");
        System.setProperty("org.slf4j.simpleLogger.showShortLogName", "true");
        // The Hadoop client says at every start that it uses its Java code; nothing is wrong with that.
        System.setProperty("org.slf4j.simpleLogger.log.org.apache.hadoop.util.NativeCodeLoader", "error");
        System.exit(execute(System.getenv(), args));
    }

    /** Runs one command line and returns its exit code (for tests and embedding). */
    public static int execute(Map<String, String> environment, String... args) {
        return execute(Invocation.local(environment), args);
    }

    /** Runs one command line for an invocation: this process's, or one the agent serves for a client. */
    static int execute(Invocation invocation, String... args) {
        Main main = new Main(invocation);
        CommandLine commandLine = new CommandLine(main);
        Class<?> named = COMMANDS.get(AgentProtocol.subcommand(java.util.List.of(args)));
        for (Class<?> command : named != null ? java.util.List.<Class<?>>of(named) : COMMANDS.values()) {
            commandLine.addSubcommand(command);
        }
        commandLine.setOut(new PrintWriter(new OutputStreamWriter(invocation.out(), StandardCharsets.UTF_8), true));
        commandLine.setErr(new PrintWriter(new OutputStreamWriter(invocation.err(), StandardCharsets.UTF_8), true));
        // Everything after the image is the container's command, options included, as with docker run.
        for (String name : java.util.List.of("run", "exec")) {
            if (commandLine.getSubcommands().containsKey(name)) {
                commandLine.getSubcommands().get(name).setStopAtPositional(true);
            }
        }
        commandLine.setExecutionExceptionHandler((exception, cmd, parseResult) -> {
            PrintWriter err = cmd.getErr();
            if (exception instanceof RuncibleException e) {
                err.println("runcible: " + e.getMessage());
                if (main.debug) {
                    e.printStackTrace(err);
                }
                err.flush();
                return e instanceof ContainerRuntimeException c ? c.exitCode() : LAUNCHER_ERROR;
            }
            err.println("runcible: internal error: " + exception);
            exception.printStackTrace(err);
            err.flush();
            return LAUNCHER_ERROR;
        });
        commandLine.setParameterExceptionHandler((exception, params) -> {
            PrintWriter err = exception.getCommandLine().getErr();
            err.println("runcible: " + exception.getMessage());
            err.println("See '" + exception.getCommandLine().getCommandSpec().qualifiedName() + " --help'.");
            err.flush();
            return LAUNCHER_ERROR;
        });
        return commandLine.execute(args);
    }

    private static Map<String, Class<?>> commands(Class<?>... classes) {
        Map<String, Class<?>> byName = new java.util.LinkedHashMap<>();
        for (Class<?> command : classes) {
            byName.put(command.getAnnotation(Command.class).name(), command);
        }
        return java.util.Collections.unmodifiableMap(byName);
    }

    /** Loads the configuration and plugins. */
    Runcible open() throws RuncibleException {
        Map<String, String> environment = invocation.environment();
        Path file = configFile().orElse(null);
        Map<String, String> values = invocation.configEnvironment();
        Settings settings = file == null ? Settings.of(Map.of(), values) : Settings.load(file, values);
        return invocation.opener().open(settings, environment.get(PluginLoader.PLUGIN_PATH_ENV));
    }

    /** The configuration file: {@code --config}, then {@code $RUNCIBLE_CONFIG}; empty for the built-in defaults. */
    java.util.Optional<Path> configFile() {
        String fromEnvironment = invocation.environment().get(CONFIG_ENV);
        if (config == null && fromEnvironment != null && !fromEnvironment.isBlank()) {
            return java.util.Optional.of(Path.of(fromEnvironment));
        }
        return java.util.Optional.ofNullable(config);
    }

    Map<String, String> environment() {
        return invocation.environment();
    }

    /** This command line's standard output (the client's, when the agent runs it). */
    PrintStream out() {
        return invocation.out();
    }

    /** This command line's standard error (the client's, when the agent runs it). */
    PrintStream err() {
        return invocation.err();
    }

    Invocation invocation() {
        return invocation;
    }

    static void requireRoot(String what) throws ContainerRuntimeException {
        if (!Host.isRoot()) {
            throw new ContainerRuntimeException("'" + what + "' needs root (it mounts layers and starts runc); "
                    + "run it as root");
        }
    }

    /**
     * A command on the node's containers: root runs it, and any other user reaches it through the node agent, which
     * bin/runcible uses while its socket answers. Without one, says how to get either.
     */
    void requireNode(String what) throws ContainerRuntimeException {
        if (!Host.isRoot()) {
            String socket = invocation.environment().getOrDefault(AgentProtocol.SOCKET_ENV,
                    AgentProtocol.DEFAULT_SOCKET.toString());
            throw new ContainerRuntimeException("'" + what + "' needs root or the node agent, and no agent answers at "
                    + socket + ": run it as root, or have root start 'runcible agent' with "
                    + dev.runcible.core.config.AgentPolicy.ALLOWED_USERS + "=" + System.getProperty("user.name"));
        }
    }

    /** The node's containers, as this command line's caller may see and change them. */
    ContainerManager containers(Runcible runcible) throws RuncibleException {
        return runcible.containers().as(invocation.caller());
    }
}
