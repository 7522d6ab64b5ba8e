//! `sales-agent`: parse the command line, then hand over to the library.

fn main() -> anyhow::Result<()> {
    sales_agent::cli::run()
}
