module frontend
