package dev.runcible.core.container;

/**
 * Who asks the container manager for something: root (the CLI run as root, a root client of the agent, a library
 * caller), or an unprivileged peer of the agent. A peer other than root sees only the containers it created, runs
 * them only as users {@code runcible.agent.run-as-users} allows, and binds only what it can read itself.
 *
 * @param name the user's name on the node (the uid as text when it has none)
 */
public record Caller(int uid, int gid, String name) {
    public static final Caller ROOT = new Caller(0, 0, "root");

    public boolean isRoot() {
        return uid == 0;
    }

    /** Whether this caller may see and act on a container. */
    public boolean owns(ContainerRecord record) {
        return isRoot() || record.owner() == uid;
    }
}
