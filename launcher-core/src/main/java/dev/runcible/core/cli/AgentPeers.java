package dev.runcible.core.cli;

import dev.runcible.client.AgentProtocol;
import dev.runcible.core.config.AgentPolicy;
import dev.runcible.core.container.Caller;
import dev.runcible.core.host.HostUsers;
import dev.runcible.core.plugin.PluginLoader;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import jdk.net.UnixDomainPrincipal;

/**
 * Who the agent's peers are: root (the agent's own user), a user {@code runcible.agent.allowed-users} or
 * {@code runcible.agent.allowed-groups} admits, or nobody it serves; and what a peer other than root runs under.
 */
final class AgentPeers {
    private final String owner;
    private final AgentPolicy policy;
    /** The agent's own configuration file and plugin path: what a peer other than root runs under. */
    private final Optional<Path> ownConfig;
    private final Optional<String> ownPluginPath;

    AgentPeers(String owner, AgentPolicy policy, Optional<Path> ownConfig, Optional<String> ownPluginPath) {
        this.owner = owner;
        this.policy = policy;
        this.ownConfig = ownConfig.map(Path::toAbsolutePath);
        this.ownPluginPath = ownPluginPath;
    }

    /** The caller a peer acts as, or null when the policy does not admit it. */
    Caller caller(UnixDomainPrincipal peer) {
        String name = peer.user().getName();
        if (name.equals(owner)) {
            return Caller.ROOT;
        }
        Optional<HostUsers.HostUser> user = HostUsers.user(name);
        Optional<Integer> uid = user.map(HostUsers.HostUser::uid)
                .or(() -> name.matches("[0-9]{1,9}") ? Optional.of(Integer.parseInt(name)) : Optional.empty());
        Optional<Integer> gid = HostUsers.groupId(peer.group().getName());
        if (uid.isEmpty() || gid.isEmpty() || uid.get() == 0) {
            return null;
        }
        return policy.admits(name, uid.get(), gid.get()) ? new Caller(uid.get(), gid.get(), name) : null;
    }

    /**
     * A peer other than root runs under the agent's own configuration and plugins: its {@code --config},
     * {@code RUNCIBLE_CONFIG} and {@code RUNCIBLE_PLUGIN_PATH} are dropped, since the agent would read a file for it
     * that it may not read itself, or take a wider policy, or load code as root.
     */
    AgentProtocol.Request underOwnConfiguration(AgentProtocol.Request request) {
        List<String> args = new ArrayList<>();
        ownConfig.ifPresent(file -> args.addAll(List.of("--config", file.toString())));
        String command = AgentProtocol.subcommand(request.args());
        boolean inGlobal = true;
        for (int i = 0; i < request.args().size(); i++) {
            String arg = request.args().get(i);
            if (inGlobal && arg.equals(command)) {
                inGlobal = false;
            }
            if (inGlobal && arg.equals("--config")) {
                i++;
            } else if (!inGlobal || !arg.startsWith("--config=")) {
                args.add(arg);
            }
        }
        Map<String, String> environment = new LinkedHashMap<>(request.environment());
        environment.remove(Main.CONFIG_ENV);
        environment.remove(PluginLoader.PLUGIN_PATH_ENV);
        ownPluginPath.ifPresent(path -> environment.put(PluginLoader.PLUGIN_PATH_ENV, path));
        return new AgentProtocol.Request(args, environment, request.terminal());
    }

    /**
     * Root chooses its configuration as on the command line; a request that names none (no {@code --config}, no
     * {@code RUNCIBLE_CONFIG}), such as an embedding program's, runs under the agent's own rather than the built-in
     * defaults, so it meets the node the agent serves.
     */
    AgentProtocol.Request withOwnConfigurationByDefault(AgentProtocol.Request request) {
        String command = AgentProtocol.subcommand(request.args());
        for (String arg : request.args()) {
            if (arg.equals(command)) {
                break;
            }
            if (arg.equals("--config") || arg.startsWith("--config=")) {
                return request;
            }
        }
        if (request.environment().containsKey(Main.CONFIG_ENV) || ownConfig.isEmpty()) {
            return request;
        }
        List<String> args = new ArrayList<>(List.of("--config", ownConfig.get().toString()));
        args.addAll(request.args());
        Map<String, String> environment = new LinkedHashMap<>(request.environment());
        if (!environment.containsKey(PluginLoader.PLUGIN_PATH_ENV)) {
            ownPluginPath.ifPresent(path -> environment.put(PluginLoader.PLUGIN_PATH_ENV, path));
        }
        return new AgentProtocol.Request(args, environment, request.terminal());
    }

    /** A mode such as 0660 as permissions. */
    static Set<PosixFilePermission> modeOf(int mode) {
        StringBuilder text = new StringBuilder();
        for (int shift = 6; shift >= 0; shift -= 3) {
            int bits = mode >> shift;
            text.append((bits & 4) != 0 ? 'r' : '-').append((bits & 2) != 0 ? 'w' : '-').append('-');
        }
        return PosixFilePermissions.fromString(text.toString());
    }
}
