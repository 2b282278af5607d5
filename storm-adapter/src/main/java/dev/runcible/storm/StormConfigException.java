package dev.runcible.storm;

/** A supervisor or topology setting the adapter cannot honour: names the key, its value and what to do. */
public final class StormConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public StormConfigException(String message) {
        super(message);
    }
}
