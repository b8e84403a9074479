//! `rebound verp`: build the VERP return path for a recipient
//! (`joe@example.com` + `bounces@sender.example` -> `bounces+joe=example.com@sender.example`)
//! or decode one, with the separators of `verp_delimiters`, the same rules rebound-lda
//! decodes with (`crate::verp`).

use super::Global;
use crate::exit::AdminExit;
use anyhow::bail;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The recipient to encode, or with --decode the VERP address to decode.
    #[arg(required = true, value_name = "ADDRESS")]
    pub addresses: Vec<String>,
    /// The sender's bounce address the return path is built on.
    #[arg(
        long,
        short = 'b',
        value_name = "ADDRESS",
        required_unless_present = "decode"
    )]
    pub bounce_address: Option<String>,
    /// Decode VERP addresses back into recipients.
    #[arg(long, short = 'd', conflicts_with = "bounce_address")]
    pub decode: bool,
}

pub fn run(g: &Global, a: &Args) -> anyhow::Result<AdminExit> {
    let cfg = g.config()?;
    let sep = cfg.verp();
    for addr in &a.addresses {
        let out = if a.decode {
            crate::verp::decode(addr, sep)
        } else {
            let bounce = a.bounce_address.as_deref().unwrap_or_default();
            crate::verp::encode(addr.trim(), bounce.trim(), sep)
        };
        match out {
            Some(s) => println!("{s}"),
            None if a.decode => bail!(
                "{addr:?} is not a VERP address with separators {:?} and {:?}",
                sep.detail,
                sep.at
            ),
            None => bail!("cannot encode {addr:?}: recipient and bounce address need local@domain"),
        }
    }
    Ok(AdminExit::Ok)
}
