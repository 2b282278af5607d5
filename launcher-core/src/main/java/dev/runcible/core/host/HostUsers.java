package dev.runcible.core.host;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The node's user and group database, through {@code getent} and {@code id}, so that users from LDAP or SSSD (the
 * usual on a cluster node) are found as well as those of /etc/passwd.
 */
public final class HostUsers {
    private static final long TIMEOUT_SECONDS = 10;

    /** A user of the node: name, ids and home directory. */
    public record HostUser(String name, int uid, int gid) {
    }

    private HostUsers() {
    }

    /** The user with a name, or with a uid when {@code nameOrUid} is a number; empty when there is none. */
    public static Optional<HostUser> user(String nameOrUid) {
        String[] entry = getent("passwd", nameOrUid);
        if (entry == null || entry.length < 4) {
            return Optional.empty();
        }
        try {
            return Optional.of(new HostUser(entry[0], Integer.parseInt(entry[2]), Integer.parseInt(entry[3])));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The gid of a group by name, or the number itself; empty when a name is unknown. */
    public static Optional<Integer> groupId(String nameOrGid) {
        if (nameOrGid.matches("[0-9]{1,9}")) {
            return Optional.of(Integer.parseInt(nameOrGid));
        }
        String[] entry = getent("group", nameOrGid);
        try {
            return entry == null || entry.length < 3 ? Optional.empty() : Optional.of(Integer.parseInt(entry[2]));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** Every group of a user (primary and supplementary), as {@code id -G} gives them. */
    public static List<Integer> groupsOf(String name) {
        List<Integer> gids = new ArrayList<>();
        try {
            Commands.Result result = Commands.run(List.of("id", "-G", "--", name), TIMEOUT_SECONDS);
            if (result.ok()) {
                for (String gid : result.stdout().strip().split("\\s+")) {
                    if (gid.matches("[0-9]{1,10}")) {
                        gids.add(Integer.parseInt(gid));
                    }
                }
            }
        } catch (IOException | NumberFormatException e) {
            // no groups known
        }
        return gids;
    }

    private static String[] getent(String database, String key) {
        if (key.isEmpty() || key.startsWith("-") || key.indexOf(':') >= 0) {
            return null;
        }
        try {
            Commands.Result result = Commands.run(List.of("getent", database, key), TIMEOUT_SECONDS);
            return result.ok() ? result.stdout().strip().split("\n")[0].split(":", -1) : null;
        } catch (IOException e) {
            return null;
        }
    }
}
