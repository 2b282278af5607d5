package dev.runcible.core.container;

import dev.runcible.api.ImageConfig;
import dev.runcible.core.InvalidRequestException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The argv, environment and working directory of a container's process, from its image config and request. The
 * request's environment entries are all {@code NAME=value}: nothing here reads the launcher's own environment.
 */
public record ProcessPlan(List<String> args, List<String> env, String cwd) {
    static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /**
     * A request's {@code --env} entries must be resolved: a bare {@code NAME} is given its value at the edge (the
     * CLI, from the command line's environment), never from the launcher process's own.
     */
    static void checkResolved(RunRequest request) throws InvalidRequestException {
        checkResolved(request.env());
    }

    /** The same for any list of {@code --env} entries (those of {@code exec} too). */
    static void checkResolved(List<String> env) throws InvalidRequestException {
        for (String entry : env) {
            envName(entry);
            if (entry.indexOf('=') < 0) {
                throw new InvalidRequestException("Environment entry '" + entry + "' has no value: give NAME=value "
                        + "(the command line passes on a bare NAME with its own value)");
            }
        }
    }

    static ProcessPlan of(String image, ImageConfig config, RunRequest request, String home)
            throws InvalidRequestException {
        List<String> args = new ArrayList<>(config.entrypoint());
        args.addAll(request.command().isEmpty() ? config.cmd() : request.command());
        if (args.isEmpty()) {
            throw new InvalidRequestException("Image '" + image + "' has neither Entrypoint nor Cmd: give the "
                    + "command to run after '--'");
        }
        Map<String, String> env = new LinkedHashMap<>();
        for (String entry : config.env()) {
            int eq = entry.indexOf('=');
            env.put(entry.substring(0, eq), entry.substring(eq + 1));
        }
        env.putIfAbsent("PATH", DEFAULT_PATH);
        env.putIfAbsent("HOME", home);
        checkResolved(request);
        for (String entry : request.env()) {
            env.put(envName(entry), entry.substring(entry.indexOf('=') + 1));
        }
        List<String> envList = new ArrayList<>();
        env.forEach((k, v) -> envList.add(k + "=" + v));
        String cwd = request.options().workdir().or(config::workingDir).orElse("/");
        if (!cwd.startsWith("/")) {
            throw new InvalidRequestException("Image '" + image + "' has WorkingDir '" + cwd
                    + "', which is not absolute");
        }
        return new ProcessPlan(args, envList, cwd);
    }

    /** The variable an {@code --env} entry ({@code NAME=value} or {@code NAME}) sets; an error if malformed. */
    public static String envName(String entry) throws InvalidRequestException {
        int eq = entry.indexOf('=');
        String name = eq < 0 ? entry : entry.substring(0, eq);
        if (name.isEmpty() || !name.matches("[A-Za-z_][A-Za-z0-9_.-]*")) {
            throw new InvalidRequestException("Invalid --env '" + entry + "': use NAME=value or NAME");
        }
        return name;
    }
}
