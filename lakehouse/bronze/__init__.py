"""Landing → bronze: reading landing files with the contract's explicit schema."""
