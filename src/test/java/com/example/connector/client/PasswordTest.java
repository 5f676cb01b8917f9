package com.example.connector.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.connector.ConfigurationException;
import com.example.testing.ChildProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code password_file}: the first line is the password, as the README says. */
class PasswordTest {
  @TempDir Path dir;

  private Path file(String content) throws IOException {
    return Files.writeString(dir.resolve("pw"), content, StandardCharsets.UTF_8);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
    "s3cret                        | s3cret",
    "s3cret\\n                     | s3cret",
    "s3cret\\r\\n                  | s3cret",
    "s3cret\\nsecond line\\n       | s3cret",
    "s3cret\\r\\nsecond line       | s3cret",
    "` with spaces \\n`           | ` with spaces `",
  })
  void theFirstLineWithoutItsLineBreakIsThePassword(String content, String password) throws IOException {
    String unescaped = content.replace("\\r", "\r").replace("\\n", "\n");
    assertEquals(password, Password.fromFile(file(unescaped).toString()).reveal());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', quoteCharacter = '`', value = {"``", "`\\nthe-real-secret\\n`", "`\\r\\nthe-real-secret`"})
  void anEmptyFirstLineIsAnErrorNamingTheFileNeverItsContent(String content) throws IOException {
    Path file = file(content.replace("\\r", "\r").replace("\\n", "\n"));
    ConfigurationException e =
        assertThrows(ConfigurationException.class, () -> Password.fromFile(file.toString()).reveal());
    assertTrue(e.getMessage().contains("the first line of password file " + file + " is empty"), e.getMessage());
    assertTrue(e.getMessage().contains("write the password on its first line"), e.getMessage());
    assertFalse(e.getMessage().contains("the-real-secret"), e.getMessage());
  }

  @Test
  void aBlankFirstLineIsAnErrorToo() throws IOException {
    Path file = file("   \nthe-real-secret\n");
    ConfigurationException e =
        assertThrows(ConfigurationException.class, () -> Password.fromFile(file.toString()).reveal());
    assertTrue(e.getMessage().contains("the first line of password file " + file + " is blank"), e.getMessage());
    assertFalse(e.getMessage().contains("the-real-secret"), e.getMessage());
  }

  @Test
  void aMissingFileIsNamed() {
    Path missing = dir.resolve("nope");
    ConfigurationException e =
        assertThrows(ConfigurationException.class, () -> Password.fromFile(missing.toString()).reveal());
    assertTrue(e.getMessage().contains("cannot read password file " + missing), e.getMessage());
  }

  /**
   * A variable set to nothing is a password written wrong, as an empty file's first line is;
   * taken as the password, the source answered 401 and the run blamed the credentials. A child
   * JVM, since this one's environment cannot be set.
   */
  @Test
  void anEmptyEnvironmentVariableIsAnErrorNamingIt() throws Exception {
    ProcessBuilder child = new ProcessBuilder(ChildProcess.java(dir.resolve("reveal.args"), List.of(),
        Reveal.class.getName(), List.of("EXAMPLE_TEST_EMPTY_PASSWORD")));
    child.environment().put("EXAMPLE_TEST_EMPTY_PASSWORD", "");
    Process p = child.redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(1, TimeUnit.MINUTES), output);
    assertEquals("password: environment variable EXAMPLE_TEST_EMPTY_PASSWORD is empty on this machine;"
        + " set it to the password where the pipeline and its workers run", output.strip());
  }

  /** Prints what revealing the password of the variable named by its argument says. */
  static final class Reveal {
    public static void main(String[] args) {
      try {
        System.out.println(Password.fromEnv(args[0]).reveal().isEmpty() ? "revealed an empty password" : "revealed");
      } catch (ConfigurationException e) {
        System.out.println(e.getMessage());
      }
    }
  }
}
