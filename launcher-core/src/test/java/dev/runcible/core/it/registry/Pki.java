package dev.runcible.core.it.registry;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Certificates for the TLS and token tests, made with the openssl command line. */
final class Pki {
    final Path dir;
    final Path caCert;
    final Path serverCert;
    final Path serverKey;
    final Path tokenKey;
    final Path tokenCert;

    private Pki(Path dir) {
        this.dir = dir;
        this.caCert = dir.resolve("ca.crt");
        this.serverCert = dir.resolve("server.crt");
        this.serverKey = dir.resolve("server.key");
        this.tokenKey = dir.resolve("token.key");
        this.tokenCert = dir.resolve("token.crt");
    }

    static Pki create(Path dir) throws Exception {
        Files.createDirectories(dir);
        Pki pki = new Pki(dir);
        Path caKey = dir.resolve("ca.key");
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", caKey.toString(), "-out",
                pki.caCert.toString(), "-days", "2", "-subj", "/CN=Runcible Test CA");
        Path csr = dir.resolve("server.csr");
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", pki.serverKey.toString(), "-out", csr.toString(),
                "-subj", "/CN=127.0.0.1");
        Path ext = Files.writeString(dir.resolve("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
        openssl("x509", "-req", "-in", csr.toString(), "-CA", pki.caCert.toString(), "-CAkey", caKey.toString(),
                "-CAcreateserial", "-out", pki.serverCert.toString(), "-days", "2", "-extfile", ext.toString());
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", pki.tokenKey.toString());
        openssl("req", "-x509", "-new", "-key", pki.tokenKey.toString(), "-out", pki.tokenCert.toString(), "-days",
                "2", "-subj", "/CN=Runcible Test Token Issuer");
        return pki;
    }

    static String htpasswd(String user, String password) throws Exception {
        return run(List.of("htpasswd", "-Bbn", user, password)).strip() + "\n";
    }

    private static void openssl(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        run(command);
    }

    private static String run(List<String> command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(false).start();
        String out = new String(process.getInputStream().readAllBytes());
        String err = new String(process.getErrorStream().readAllBytes());
        if (process.waitFor() != 0) {
            throw new IllegalStateException(command + " failed: " + err);
        }
        return out;
    }
}
