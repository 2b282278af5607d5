package dev.runcible.core.config;

import static java.util.Objects.requireNonNull;

import dev.runcible.api.PolicyViolationException;
import dev.runcible.core.host.HostUsers;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Who besides root may use the node agent, and as whom their containers may run.
 *
 * @param allowedUsers {@code runcible.agent.allowed-users}: user names or uids admitted to the socket
 * @param allowedGroups {@code runcible.agent.allowed-groups}: members of these groups (names or gids) are admitted
 * @param runAsUsers {@code runcible.agent.run-as-users}: the uids a peer other than root may run containers as:
 *     names, uids, ranges {@code 10000-19999}, or {@code *} for every uid but 0
 * @param socketGroup {@code runcible.agent.socket-group}: the socket's group
 * @param socketMode {@code runcible.agent.socket-mode}: the socket's mode; by default 0600 when only root is
 *     admitted, 0660 with a socket group, otherwise 0666 (each connection's credentials are checked anyway)
 */
public record AgentPolicy(List<String> allowedUsers, List<String> allowedGroups, List<String> runAsUsers,
        Optional<String> socketGroup, int socketMode) {
    public static final String ALLOWED_USERS = "runcible.agent.allowed-users";
    public static final String ALLOWED_GROUPS = "runcible.agent.allowed-groups";
    public static final String RUN_AS_USERS = "runcible.agent.run-as-users";
    public static final String SOCKET_GROUP = "runcible.agent.socket-group";
    public static final String SOCKET_MODE = "runcible.agent.socket-mode";
    public static final AgentPolicy ROOT_ONLY = new AgentPolicy(List.of(), List.of(), List.of(), Optional.empty(),
            0600);
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]{0,31}\\$?|[0-9]{1,10}");
    private static final Pattern RANGE = Pattern.compile("([0-9]{1,10})-([0-9]{1,10})");

    public AgentPolicy {
        allowedUsers = List.copyOf(allowedUsers);
        allowedGroups = List.copyOf(allowedGroups);
        runAsUsers = List.copyOf(runAsUsers);
        requireNonNull(socketGroup, "socketGroup is null");
    }

    static AgentPolicy from(Settings settings) {
        List<String> users = names(settings, ALLOWED_USERS, false);
        List<String> groups = names(settings, ALLOWED_GROUPS, false);
        List<String> runAs = names(settings, RUN_AS_USERS, true);
        Optional<String> group = settings.get(SOCKET_GROUP);
        if (group.isPresent() && !NAME.matcher(group.get()).matches()) {
            settings.problem(SOCKET_GROUP, "must be a group name or gid, got '" + group.get() + "'");
        }
        int fallback = users.isEmpty() && groups.isEmpty() ? 0600 : group.isPresent() ? 0660 : 0666;
        int mode = fallback;
        Optional<String> modeText = settings.get(SOCKET_MODE);
        if (modeText.isPresent()) {
            if (!modeText.get().matches("0?[0-7]{3}")) {
                settings.problem(SOCKET_MODE, "must be an octal mode such as 0660, got '" + modeText.get() + "'");
            } else {
                mode = Integer.parseInt(modeText.get(), 8);
                if ((mode & 0111) != 0) {
                    settings.problem(SOCKET_MODE, "must not have execute bits, got '" + modeText.get() + "'");
                }
            }
        }
        return new AgentPolicy(users, groups, runAs, group, mode);
    }

    private static List<String> names(Settings settings, String key, boolean ranges) {
        List<String> out = new ArrayList<>();
        for (String entry : settings.list(key, List.of())) {
            boolean valid = NAME.matcher(entry).matches()
                    || (ranges && (entry.equals("*") || RANGE.matcher(entry).matches()));
            if (!valid) {
                settings.problem(key, "entries must be names or numeric ids" + (ranges ? ", ranges like 10000-19999 "
                        + "or '*'" : "") + ", got '" + entry + "'");
            } else if (entry.equals("root") || entry.equals("0") || entry.startsWith("0-")) {
                settings.problem(key, "must not name root, got '" + entry + "': root is always admitted, and no "
                        + "peer runs as root");
            } else {
                out.add(entry);
            }
        }
        return out;
    }

    /** Whether anyone but root is admitted. */
    public boolean admitsOthers() {
        return !allowedUsers.isEmpty() || !allowedGroups.isEmpty();
    }

    /** Whether a peer of the socket (its user name, uid and primary gid from its credentials) is admitted. */
    public boolean admits(String name, int uid, int gid) {
        if (uid == 0) {
            return true;
        }
        if (allowedUsers.contains(name) || allowedUsers.contains(Integer.toString(uid))) {
            return true;
        }
        if (allowedGroups.isEmpty()) {
            return false;
        }
        List<Integer> groups = new ArrayList<>(HostUsers.groupsOf(name));
        groups.add(gid);
        for (String group : allowedGroups) {
            Optional<Integer> id = HostUsers.groupId(group);
            if (id.isPresent() && groups.contains(id.get())) {
                return true;
            }
        }
        return false;
    }

    /**
     * Refuses ids a peer other than root may not run a container or a process as: uid 0 and gid 0 always, and a
     * uid that {@code runcible.agent.run-as-users} does not list.
     */
    public void checkRunAs(String what, int uid, int gid, List<Integer> groups) throws PolicyViolationException {
        if (uid == 0 || gid == 0 || groups.contains(0)) {
            throw new PolicyViolationException(what + " would run as uid " + uid + ", gid " + gid
                    + (groups.isEmpty() ? "" : ", groups " + groups) + ": a caller of the agent other than root never "
                    + "runs anything as root or group root; give --user UID:GID with ids other than 0");
        }
        for (String entry : runAsUsers) {
            if (entry.equals("*") || entry.equals(Integer.toString(uid))) {
                return;
            }
            var range = RANGE.matcher(entry);
            if (range.matches()) {
                if (uid >= Long.parseLong(range.group(1)) && uid <= Long.parseLong(range.group(2))) {
                    return;
                }
            } else if (!entry.matches("[0-9]+")
                    && HostUsers.user(entry).map(user -> user.uid() == uid).orElse(false)) {
                return;
            }
        }
        throw new PolicyViolationException(what + " would run as uid " + uid + ", which " + RUN_AS_USERS + " "
                + runAsUsers + " does not allow for callers of the agent; ask the node's operator to add it, or pick "
                + "another --user");
    }
}
