"""The programme guide (办事指南): per programme and kind, the public page an officer maintains."""
