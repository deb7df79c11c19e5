"""What people read and run: REPORT.md, pictures, JUnit XML, console tables, and
the generated regression tests with their runtime."""
